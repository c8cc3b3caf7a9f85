// Where the global search shortcut (/ or F2) puts the focus: a page with its own search box (the
// patient list) registers it here; otherwise the quick search in the header takes it.
export const searchTarget = $state<{ el: HTMLInputElement | null }>({ el: null });
