import { test, expect, Browser } from "@playwright/test";
import { callbackUrl, exchange, password, signIn } from "./helpers";

async function signedInPage(browser: Browser, user: string, pw: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/account");
  await expect(page).toHaveURL(/\/o\/login\/\?next=\/account/);
  await signIn(page, user, pw);
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  return { context, page };
}

test("authorized apps are listed and revoking one kills its refresh token", async ({ browser, request }) => {
  const { page } = await signedInPage(browser, "ivan", password("ivan"));
  await expect(page.getByText("You have not authorized any app.")).toBeVisible();

  await page.goto("/o/authorize/?response_type=code&client_id=demo&scope=read%20profile&state=a");
  await page.getByRole("button", { name: "Approve" }).click();
  const code = (await callbackUrl(page)).searchParams.get("code")!;
  const tokens = await exchange(request, {
    grant_type: "authorization_code", code, client_id: "demo", client_secret: "demo-secret",
  });
  expect(tokens.status).toBe(200);

  await page.goto("/account");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const app = page.locator("li.app", { hasText: "Demo app" });
  await expect(app).toContainText("Read your data");
  await expect(app).toContainText("last used");
  await page.screenshot({ path: "test-results/account-page.png", fullPage: true });
  await app.getByRole("button", { name: "Revoke Demo app" }).click();
  await expect(page.getByRole("status")).toHaveText("The app's access was revoked.");
  await expect(page.getByText("You have not authorized any app.")).toBeVisible();

  const refreshed = await exchange(request, {
    grant_type: "refresh_token", refresh_token: tokens.body.refresh_token, client_id: "demo", client_secret: "demo-secret",
  });
  expect(refreshed.status).toBe(400);
  expect(refreshed.body.error).toBe("invalid_grant");
  const info = await request.post("/o/introspect/", {
    form: { token: tokens.body.access_token, client_id: "demo", client_secret: "demo-secret" },
  });
  expect((await info.json()).active).toBe(false);
});

test("changing the password signs out the other browser", async ({ browser }) => {
  const first = await signedInPage(browser, "judy", password("judy"));
  const second = await signedInPage(browser, "judy", password("judy"));
  await first.page.reload();
  await expect(first.page.locator("li.session")).toHaveCount(2);

  await first.page.getByLabel("Current password").fill("not-the-password");
  await first.page.getByLabel("New password").fill("judy-new-password");
  await first.page.getByRole("button", { name: "Change password" }).click();
  await expect(first.page.getByRole("alert")).toHaveText("The password is not correct.");

  await first.page.getByLabel("Current password").fill(password("judy"));
  await first.page.getByLabel("New password").fill("judy-new-password");
  await first.page.getByRole("button", { name: "Change password" }).click();
  await expect(first.page.getByRole("status")).toContainText("Your password was changed");
  await expect(first.page.locator("li.session")).toHaveCount(1);

  await second.page.goto("/account");
  await expect(second.page).toHaveURL(/\/o\/login\//);
  await signIn(second.page, "judy", "judy-new-password");
  await expect(second.page.getByRole("heading", { name: "Your account" })).toBeVisible();
});

test("the profile form saves and explains bad input", async ({ browser }) => {
  const { page } = await signedInPage(browser, "mallory", password("mallory"));
  await page.getByLabel("Display name").fill("Mallory M.");
  await page.getByLabel("Email", { exact: true }).fill("alice@example.com");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("alert")).toHaveText("that email is already registered");
  await page.getByLabel("Email", { exact: true }).fill("mallory.m@example.com");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("status")).toHaveText("Your profile was saved.");
  await expect(page.getByLabel("Display name")).toHaveValue("Mallory M.");
});
