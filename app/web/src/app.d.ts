// SvelteKit's app-wide types.
declare global {
  namespace App {
    /**
     * History state of a page (shallow routing): kept with the history entry, never in the URL.
     * The patient search text lives here, so no name, birth date or phone reaches a URL.
     */
    interface PageState {
      patientSearch?: string;
    }
  }
}

export {};
