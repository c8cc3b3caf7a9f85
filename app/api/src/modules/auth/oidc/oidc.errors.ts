/** A refused sign-in: `code` goes to /login?error=…, `cause` into the audit log. */
export class OidcLoginError extends Error {
  readonly code: string;
  readonly user: { id: string; organizationId: string } | undefined;
  constructor(code: string, cause: string, user?: { id: string; organizationId: string }) {
    super(cause);
    this.code = code;
    this.user = user;
  }
}
