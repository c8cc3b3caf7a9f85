// Success messages replace each other: every success Alert claims "latest" when it appears or its
// text changes, and only the latest one is shown (and announced: a single polite live region at a
// time, instead of one per section piling up on a page).
let counter = 0;

export const successNotices = $state({ latest: 0 });

export function claimSuccessNotice(): number {
  counter += 1;
  successNotices.latest = counter;
  return counter;
}
