import { test, expect, Browser, Page } from "@playwright/test";
import { callbackUrl, exchange, password, signIn } from "./helpers";

async function signedIn(browser: Browser, user: string, pw: string, start = "/account", locale = "en-US") {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  await page.goto(start);
  await signIn(page, user, pw);
  await page.waitForURL((u) => u.pathname === start);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  return { context, page };
}

test("sign up, log in, grant an app, see it, revoke it: its refresh token is refused", async ({ browser, request }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const user = `una${Date.now() % 100000}`;
  await page.goto("/o/register/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password (at least 8 characters)").fill("una-long-passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await page.goto("/");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  await page.goto("/o/authorize/?response_type=code&client_id=demo&scope=read&state=s1");
  await signIn(page, user, "una-long-passphrase");
  await page.getByRole("button", { name: "Approve" }).click();
  const code = (await callbackUrl(page)).searchParams.get("code")!;
  const tokens = await exchange(request, { grant_type: "authorization_code", code, client_id: "demo", client_secret: "demo-secret" });
  expect(tokens.status).toBe(200);

  await page.goto("/account");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.locator("li.app", { hasText: "Demo app" }).getByRole("button", { name: "Revoke Demo app" }).click();
  await expect(page.getByRole("status")).toHaveText("The app's access was revoked.");
  const refreshed = await exchange(request, {
    grant_type: "refresh_token", refresh_token: tokens.body.refresh_token, client_id: "demo", client_secret: "demo-secret",
  });
  expect(refreshed.body.error).toBe("invalid_grant");
});

test("deleting the account needs the password, signs out and holds the username", async ({ browser }) => {
  const { page } = await signedIn(browser, "peggy", password("peggy"));
  await page.locator("#delete_password").fill("wrong password");
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page.getByRole("alert")).toHaveText("The password is not correct.");

  await page.locator("#delete_password").fill(password("peggy"));
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page.getByRole("status")).toHaveText("Your account was deleted.");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await signIn(page, "peggy", password("peggy"));
  await expect(page.getByRole("alert")).toHaveText("Invalid username or password.");

  await page.goto("/o/register/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Username").fill("Peggy");
  await page.getByLabel("Password (at least 8 characters)").fill("someone-elses-passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("alert")).toHaveText("that username or email is not available");
});

async function secretOnPage(page: Page) {
  const box = page.locator(".secret");
  await expect(box).toContainText("it will not be shown again");
  return { id: (await box.locator(".client-id").textContent())!, secret: (await box.locator(".client-secret").textContent())! };
}

test("a developer registers an app, uses its one-time secret, rotates it and deletes the app", async ({ browser, request }) => {
  const { page } = await signedIn(browser, "oscar", password("oscar"), "/account/apps");
  await expect(page.getByText("You have not registered any app.")).toBeVisible();

  await page.getByLabel("Name").fill("Oscar's backend");
  await page.getByLabel("Redirect URIs (one per line)").fill("javascript:alert(1)");
  await page.getByRole("button", { name: "Register", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("scheme is not allowed");

  await page.getByLabel("Name").fill("Oscar's backend");
  await page.getByLabel("Redirect URIs (one per line)").fill("https://oscar.example/callback");
  await page.locator("#new-client_credentials").check();
  await page.getByRole("button", { name: "Register", exact: true }).click();
  await expect(page.getByRole("status").first()).toHaveText("The app was registered.");
  const first = await secretOnPage(page);
  await page.screenshot({ path: "test-results/developer-apps.png", fullPage: true });

  const ok = await exchange(request, { grant_type: "client_credentials", client_id: first.id, client_secret: first.secret });
  expect(ok.status).toBe(200);
  await page.reload();
  await expect(page.locator(".secret")).toHaveCount(0);
  await expect(page.locator("li.dev-app")).toContainText(first.id);

  await page.locator("li.dev-app").getByRole("button", { name: "New secret" }).click();
  await expect(page.getByRole("status").first()).toHaveText("The app has a new secret. The old one no longer works.");
  const second = await secretOnPage(page);
  expect(second.id).toBe(first.id);
  expect(second.secret).not.toBe(first.secret);
  const old = await exchange(request, { grant_type: "client_credentials", client_id: first.id, client_secret: first.secret });
  expect(old.status).toBe(401);
  expect(old.body.error).toBe("invalid_client");
  expect((await exchange(request, { grant_type: "client_credentials", client_id: first.id, client_secret: second.secret })).status).toBe(200);

  await page.locator("li.dev-app").getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("status").first()).toHaveText("The app was deleted.");
  expect((await exchange(request, { grant_type: "client_credentials", client_id: first.id, client_secret: second.secret })).status).toBe(401);
});

test("the admin pages answer 403 to a non-admin; an admin disables a user, who is signed out", async ({ browser }) => {
  const { page: bob } = await signedIn(browser, "bob", password("bob"));
  for (const path of ["/admin/users", "/admin/clients"]) {
    const response = await bob.goto(path);
    expect(response!.status()).toBe(403);
    await expect(bob.getByRole("alert")).toHaveText("You do not have access to this page.");
  }

  const { page: trent } = await signedIn(browser, "trent", password("trent"));
  const { page: root } = await signedIn(browser, "root", password("root"), "/admin/users");
  await root.getByLabel("Username, email or name").fill("tre");
  await root.getByRole("button", { name: "Search" }).click();
  await expect(root.locator("li.admin-user")).toHaveCount(1);
  await expect(root.locator("body[data-hydrated=true]")).toHaveCount(1);
  await root.getByRole("button", { name: "Disable trent" }).click();
  await expect(root.getByRole("status")).toHaveText("The account was disabled and signed out everywhere.");
  await expect(root.locator("li.admin-user", { hasText: "trent" })).toContainText("disabled");

  await trent.goto("/account");
  await expect(trent.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await signIn(trent, "trent", password("trent"));
  await expect(trent.getByRole("alert")).toHaveText("Invalid username or password.");

  await root.getByRole("button", { name: "Enable trent" }).click();
  await expect(root.getByRole("status")).toHaveText("The account was enabled.");

  await root.goto("/admin/clients");
  const spa = root.locator("li.admin-client", { hasText: "Single Page App" });
  await spa.getByLabel("Implicit grant").check();
  await spa.getByRole("button", { name: "Save Single Page App" }).click();
  await expect(root.getByRole("status")).toHaveText("Saved.");
  await expect(root.locator("li.admin-client", { hasText: "Single Page App" })).toContainText("implicit");
});

test("the UI speaks Simplified Chinese to a Chinese browser and switches on every page", async ({ browser }) => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto("/o/login/?next=/account");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("heading", { name: "登录" })).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("用户名或邮箱").fill("carol");
  await page.getByLabel("密码").fill("wrong password");
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByRole("alert")).toHaveText("用户名或密码错误。");
  await page.getByLabel("密码").fill(password("carol"));
  await page.getByRole("button", { name: "登录" }).click();
  await expect(page.getByRole("heading", { name: "你的账户" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "已登录的浏览器" })).toBeVisible();
  await page.screenshot({ path: "test-results/account-zh.png", fullPage: true });

  await page.goto("/o/authorize/?response_type=code&client_id=demo&scope=read&state=zh&prompt=consent");
  await expect(page.getByRole("button", { name: "同意" })).toBeVisible();
  await expect(page.getByText("读取你的数据")).toBeVisible();
  await page.getByRole("link", { name: "English" }).click();
  await expect(page.getByRole("button", { name: "Approve" })).toBeVisible();
  expect(new URL(page.url()).searchParams.get("state")).toBe("zh");
  await page.goto("/account/apps");
  await expect(page.getByRole("heading", { name: "Developer apps" })).toBeVisible();
  await page.getByRole("link", { name: "中文" }).click();
  await expect(page.getByRole("heading", { name: "开发者应用" })).toBeVisible();
});
