import { test, expect, Page } from "@playwright/test";
import { callbackUrl, exchange, password, signIn } from "./helpers";

// A second Yaoshi (started by .ci/test.sh on 127.0.0.2) is the upstream OpenID Connect
// provider "Upstream Yaoshi"; "Offline Provider" never answers.
const UPSTREAM = process.env.YAOSHI_UPSTREAM_URL ?? "";
const upstreamPassword = (user: string) => `e2e-upstream-${user}`;

test.skip(!UPSTREAM, "the test command starts the upstream provider (YAOSHI_UPSTREAM_URL)");

/** On the upstream's own login page, signs in as `user`. */
async function signInUpstream(page: Page, user: string) {
  await expect(page).toHaveURL((u) => u.origin === UPSTREAM && u.pathname === "/o/login/");
  await signIn(page, user, upstreamPassword(user));
}

test("sign in with the upstream provider: account created, authorize flow completed", async ({ page, request }) => {
  await page.goto("/o/authorize/?response_type=code&client_id=demo&state=up1&scope=openid%20profile");
  await expect(page).toHaveURL(/\/o\/login\/\?next=/);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("link", { name: "Sign in with Upstream Yaoshi" }).click();
  await signInUpstream(page, "uma");

  // Back here: a new identity, so the account is made first, with the upstream's username.
  await expect(page.getByRole("heading", { name: "Finish signing in" })).toBeVisible();
  await expect(page.getByText("Upstream Yaoshi")).toBeVisible();
  await expect(page.getByLabel("Username")).toHaveValue("uma");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.screenshot({ path: "test-results/upstream-finish.png", fullPage: true });
  await page.getByRole("button", { name: "Create my account" }).click();

  // The authorize request continues as after a password sign-in.
  await expect(page.getByRole("heading", { name: "Authorize Demo app" })).toBeVisible();
  await page.getByRole("button", { name: "Approve" }).click();
  const cb = await callbackUrl(page);
  expect(cb.searchParams.get("state")).toBe("up1");
  const tokens = await exchange(request, {
    grant_type: "authorization_code", code: cb.searchParams.get("code")!, client_id: "demo", client_secret: "demo-secret",
  });
  expect(tokens.status).toBe(200);
  const me = await request.get("/o/userinfo/", { headers: { Authorization: `Bearer ${tokens.body.access_token}` } });
  expect((await me.json()).username).toBe("uma");

  // The provider is this account's only way to sign in: it cannot be unlinked.
  await page.goto("/account");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const row = page.locator("li.identity", { hasText: "Upstream Yaoshi" });
  await expect(row).toContainText("uma@example.com");
  await row.getByRole("button", { name: "Unlink Upstream Yaoshi" }).click();
  await expect(page.getByRole("alert")).toContainText("only way to sign in");
  await expect(row).toContainText("linked ");
});

test("link and unlink the upstream provider on the account page", async ({ page }) => {
  await page.goto("/account");
  await signIn(page, "victor", password("victor"));
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const row = page.locator("li.identity", { hasText: "Upstream Yaoshi" });
  await expect(row).toContainText("not linked");
  await row.getByRole("button", { name: "Link Upstream Yaoshi" }).click();
  await signInUpstream(page, "vera");

  await expect(page.getByRole("status")).toHaveText("The provider was linked to your account.");
  await expect(row).toContainText("vera@example.com");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await row.getByRole("button", { name: "Unlink Upstream Yaoshi" }).click();
  await expect(page.getByRole("status")).toHaveText("The provider was unlinked from your account.");
  await expect(row).toContainText("not linked");

  // Linking again needs no second sign-in at the upstream (its session is still there).
  await row.getByRole("button", { name: "Link Upstream Yaoshi" }).click();
  await expect(page.getByRole("status")).toHaveText("The provider was linked to your account.");
});

test("an unreachable provider and a forged callback show an error and sign nobody in", async ({ page }) => {
  await page.goto("/o/login/?next=/account");
  await page.getByRole("link", { name: "Sign in with Offline Provider" }).click();
  await expect(page).toHaveURL(/\/o\/login\/\?next=\/account&error=upstream_unavailable$/);
  await expect(page.getByRole("alert")).toContainText("could not be reached");

  await page.goto("/o/login/callback/upstream?code=forged&state=forged");
  await expect(page).toHaveURL(/\/o\/login\/\?error=upstream_state$/);
  await expect(page.getByRole("alert")).toContainText("not started in this browser");

  await page.goto("/account");
  await expect(page).toHaveURL(/\/o\/login\/\?next=\/account/);
});

test("a callback whose issuer was changed is refused and links nothing", async ({ page }) => {
  // Play the mix-up attacker: the upstream's answer comes back naming another issuer.
  await page.route((u) => u.origin === UPSTREAM && u.pathname === "/o/authorize/", async (route) => {
    const answer = await route.fetch({ maxRedirects: 0 });
    const location = answer.headers()["location"];
    if (answer.status() !== 302 || !location?.includes("/o/login/callback/")) return route.fulfill({ response: answer });
    const tampered = new URL(location);
    tampered.searchParams.set("iss", "http://evil.example");
    await route.fulfill({ status: 302, headers: { location: tampered.toString() } });
  });
  await page.goto("/o/login/?next=/account");
  await page.getByRole("link", { name: "Sign in with Upstream Yaoshi" }).click();
  await signInUpstream(page, "walt");
  await expect(page).toHaveURL(/\/o\/login\/\?next=\/account&error=upstream_rejected$/);
  await expect(page.getByRole("alert")).toContainText("could not be verified");

  await page.goto("/account");
  await expect(page).toHaveURL(/\/o\/login\/\?next=\/account/);
});
