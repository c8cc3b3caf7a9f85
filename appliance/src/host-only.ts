// Subcommands of the host's /usr/local/bin/praxiskern (the updater, installed by the playbook)
// that have no meaning inside a container: they answer where they run, with exit 64.
export const HOST_ONLY: Record<string, string> = {
  update: 'praxiskern update runs on the server host, not in a container: /usr/local/bin/praxiskern update BUNDLE [--check] [--force --reason TEXT]',
  rollback: 'praxiskern rollback runs on the server host, not in a container: /usr/local/bin/praxiskern rollback [--yes]',
};
