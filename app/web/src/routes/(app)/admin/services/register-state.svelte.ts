// The register of external services as both of its pages load it: once when the page mounts, the
// failure (in the user's language) kept for an alert.
import { onMount } from 'svelte';
import { api, type ExternalServicesRegister } from '#lib/api.ts';
import { LoadState } from '#lib/state/loading.svelte.ts';

export class RegisterState {
  register = $state<ExternalServicesRegister | null>(null);
  readonly loading = new LoadState();

  /** Call while the page component initialises (it registers an onMount). */
  constructor() {
    onMount(() => {
      void this.loading.run(async () => {
        this.register = await api.servicesRegister();
      });
    });
  }
}
