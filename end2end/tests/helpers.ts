import { expect, Page, APIRequestContext } from "@playwright/test";

/** Where the demo and fixture clients send the browser (global-setup.ts serves it). */
export const CALLBACK_ORIGIN = "http://127.0.0.1:8000";

/** Waits for a navigation to the client's redirect URI and returns it parsed. */
export async function callbackUrl(page: Page): Promise<URL> {
  await page.waitForURL((u) => u.origin === CALLBACK_ORIGIN, { timeout: 20_000 });
  return new URL(page.url());
}

/** Fills the login form; waits for hydration first when JavaScript is on. */
export async function signIn(page: Page, username: string, password: string, js = true) {
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  if (js) await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The fixture users' passwords (see .ci/test.sh). */
export const password = (user: string) => `e2e-password-${user}`;

/** Exchanges a code at /o/token/ and returns the parsed JSON and status. */
export async function exchange(request: APIRequestContext, form: Record<string, string>) {
  const r = await request.post("/o/token/", { form });
  return { status: r.status(), body: await r.json() };
}

/** RFC 7636 S256 challenge for a verifier. */
export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return Buffer.from(digest).toString("base64url");
}
