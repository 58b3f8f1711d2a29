import { test, expect, Browser, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { password } from "./helpers";

// axe-core on every page, signed out and in, as a user and as an admin, in both languages and
// both colour schemes: WCAG 2.2 A and AA, and axe's best practices. Any violation fails. (The
// passkey forms, offered only with a host-name issuer, are scanned in passkey.spec.ts.)
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"];
const PASSPHRASE = "a11y long passphrase";

/** The body's background in each scheme (style/main.css `--bg`): proves the scheme took effect. */
const BACKGROUND = { light: "rgb(244, 245, 247)", dark: "rgb(13, 17, 23)" };

/** Opens `path`, checks it landed on `landsOn` (path and heading present), waits for hydration. */
async function visit(page: Page, path: string, landsOn = path.split("?")[0]) {
  const response = await page.goto(path);
  expect(response, path).not.toBeNull();
  await expect(page, path).toHaveURL((u) => u.pathname === landsOn);
  await expect(page.locator("h1"), path).toHaveCount(1);
  await expect(page.locator("body[data-hydrated=true]"), path).toHaveCount(1);
}

/** Signs in through the form (by field ids, so in either language). */
async function signIn(page: Page, user: string, pw: string, next: string) {
  await visit(page, `/o/login/?next=${encodeURIComponent(next)}`, "/o/login/");
  await page.locator("#username").fill(user);
  await page.locator("#password").fill(pw);
  await page.locator("form button.primary").click();
  await page.waitForURL((u) => u.pathname === next);
}

type Scheme = "light" | "dark";

async function auditEveryPage(browser: Browser, locale: string, colorScheme: Scheme) {
  const found: string[] = [];
  const scanned: string[] = [];
  const scan = async (page: Page, name: string) => {
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg, `${name}: the ${colorScheme} scheme applies`).toBe(BACKGROUND[colorScheme]);
    const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
    for (const v of violations) {
      const nodes = v.nodes.slice(0, 4).map((n) => `${n.target.join(" ")}: ${n.failureSummary?.split("\n")[1]?.trim() ?? ""}`);
      found.push(`${name} [${v.impact}] ${v.id}: ${v.help}\n    ${nodes.join("\n    ")}`);
    }
    scanned.push(name);
  };
  const context = await browser.newContext({ locale, colorScheme, bypassCSP: true });
  const page = await context.newPage();

  // Signed out.
  await visit(page, "/account", "/o/login/");
  expect(new URL(page.url()).searchParams.get("error")).toBe("sign_in");
  await scan(page, "login (sent from /account)");
  await visit(page, "/o/login/?error=credentials", "/o/login/");
  await scan(page, "login with an error");
  await visit(page, "/o/register/");
  await scan(page, "sign-up");
  await visit(page, "/");
  await scan(page, "home, signed out");
  await visit(page, "/o/logout/");
  await scan(page, "logout, signed out");
  await visit(page, "/o/login/finish/");
  await scan(page, "provider sign-in finish without a pending sign-in");
  await visit(page, "/no-such-page");
  await scan(page, "not found");
  await visit(page, "/o/authorize/?response_type=code&client_id=no-such-client");
  await scan(page, "authorization error");
  await visit(page, "/o/login/mfa/");
  await scan(page, "second step of signing in");

  // A new user: sign-up, then every page they can see.
  const user = `a11y${colorScheme[0]}${locale.slice(0, 2)}${Date.now() % 1_000_000}`;
  await visit(page, "/o/register/");
  await page.locator("#username").fill(user);
  await page.locator("#password").fill(PASSPHRASE);
  await page.locator("form button.primary").click();
  await page.waitForURL((u) => u.pathname === "/account");
  await visit(page, "/account/apps");
  await scan(page, "developer apps, none yet");
  await page.locator("#app-name").fill("A11y App");
  await page.locator("#app-redirects").fill("https://app.example/callback");
  await page.locator("form button.primary").click();
  await expect(page.locator("li.dev-app")).toHaveCount(1);
  await scan(page, "developer apps, one with its new secret");

  await visit(page, "/o/authorize/?response_type=code&client_id=demo&scope=openid%20profile%20read&state=a11y");
  await expect(page.locator("button[value=approve]")).toBeVisible();
  await scan(page, "consent");
  await page.locator("button[value=approve]").click();
  await page.waitForURL((u) => u.origin === "http://127.0.0.1:8000");

  await visit(page, "/account");
  await expect(page.locator("li.app")).toHaveCount(1);
  await expect(page.locator("li.session")).toHaveCount(1);
  await scan(page, "account, with an app and a browser");
  await visit(page, "/account?done=profile");
  await expect(page.locator(".notice")).toHaveCount(1);
  await scan(page, "account with a notice");
  await visit(page, "/account?error=password");
  await expect(page.locator(".error")).toHaveCount(1);
  await scan(page, "account with an error");
  await visit(page, "/account/security");
  await scan(page, "two-step verification, off");
  await page.locator("form button.primary").click();
  await expect(page.locator(".qr svg")).toBeVisible();
  await scan(page, "two-step verification, enrolling");
  await visit(page, "/");
  await scan(page, "home, signed in");
  await visit(page, "/o/device/");
  await scan(page, "device code entry");
  const device = await (await page.request.post("/o/device/authorize/", { form: { client_id: "tv-device" } })).json();
  await visit(page, `/o/device/?user_code=${device.user_code}`);
  await expect(page.locator("button[value=approve]")).toBeVisible();
  await scan(page, "device confirmation");
  await visit(page, "/o/logout/");
  await scan(page, "logout confirmation");
  await visit(page, "/o/login/");
  await scan(page, "login, signed in (switch account)");
  const forbidden = await page.goto("/admin/users");
  expect(forbidden?.status()).toBe(403);
  await scan(page, "admin page, forbidden");

  // The admin pages, in a browser of their own.
  const admin = await browser.newContext({ locale, colorScheme, bypassCSP: true });
  const root = await admin.newPage();
  await signIn(root, "root", password("root"), "/admin/users");
  await visit(root, "/admin/users");
  await expect(root.locator("table, ul").first()).toBeVisible();
  await scan(root, "admin users");
  await visit(root, `/admin/users?q=${user}`);
  await scan(root, "admin users, searched");
  await visit(root, "/admin/clients");
  await scan(root, "admin clients");
  await visit(root, "/admin/events");
  await scan(root, "admin events");
  await visit(root, "/admin/groups");
  await scan(root, "admin groups");
  await visit(root, "/admin/users?q=root");
  const own = await root.locator("li.admin-user a").first().getAttribute("href");
  await visit(root, own!);
  await scan(root, "admin user");

  await admin.close();
  await context.close();
  expect(scanned.length).toBe(29);
  expect(found, `axe violations (${locale}, ${colorScheme}):\n${found.join("\n")}`).toEqual([]);
}

for (const colorScheme of ["light", "dark"] as const) {
  for (const locale of ["en-US", "zh-CN"]) {
    test(`axe finds nothing on any page (${locale}, ${colorScheme})`, async ({ browser }) => {
      test.setTimeout(180_000);
      await auditEveryPage(browser, locale, colorScheme);
    });
  }
}
