import { test, expect, Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { callbackUrl, exchange, signIn } from "./helpers";

// Verified contacts and recovery against real parts: mail goes through SMTP to aiosmtpd (a
// Maildir, YAOSHI_TEST_MAILDIR) and SMS to a fake Tencent endpoint that checks the request
// signature (codes in YAOSHI_TEST_SMS_DIR); both are started by the test command.
const MAILDIR = process.env.YAOSHI_TEST_MAILDIR ?? "";
const SMS_DIR = process.env.YAOSHI_TEST_SMS_DIR ?? "";
test.skip(!MAILDIR || !SMS_DIR, "needs the mailbox and the fake SMS endpoint of the test command");

const PASSWORD = "contacts-e2e-password";
const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** The body of one message file, its transfer encoding undone. */
function decode(raw: string): { headers: string; body: string } {
  const split = raw.indexOf("\r\n\r\n") >= 0 ? raw.indexOf("\r\n\r\n") : raw.indexOf("\n\n");
  const headers = raw.slice(0, split);
  let body = raw.slice(split).trim();
  if (/content-transfer-encoding:\s*base64/i.test(headers)) body = Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  else if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    body = Buffer.from(
      body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))),
      "latin1",
    ).toString("utf8");
  }
  return { headers, body };
}

/** Waits for the `n`th mail (1-based, oldest first) to `to` whose body contains `marker`. */
async function mailTo(to: string, marker: string, n = 1): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const files: { at: number; body: string }[] = [];
    for (const box of ["new", "cur"]) {
      const dir = path.join(MAILDIR, box);
      if (!fs.existsSync(dir)) continue;
      for (const f of fs.readdirSync(dir)) {
        const full = path.join(dir, f);
        const { headers, body } = decode(fs.readFileSync(full, "utf8"));
        if (new RegExp(`^to:.*${to.replace(/[.+]/g, "\\$&")}`, "im").test(headers) && body.includes(marker)) {
          files.push({ at: fs.statSync(full).mtimeMs, body });
        }
      }
    }
    files.sort((a, b) => a.at - b.at);
    if (files.length >= n) return files[n - 1].body;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail #${n} to ${to} with ${marker}`);
}

const linkIn = (body: string) => body.match(/https?:\/\/\S+/)![0];

/** Waits for a code sent by SMS to `number` other than `not`. */
async function smsCode(number: string, not = ""): Promise<string> {
  const file = path.join(SMS_DIR, number);
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(file)) {
      const code = fs.readFileSync(file, "utf8").trim();
      if (code && code !== not) return code;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no SMS code to ${number}`);
}

/** Signs up through the form; the browser lands on the account page. */
async function signUp(page: Page, username: string, email: string) {
  await page.goto("/o/register/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel(/^Password \(at least/).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/account/);
}

/** Opens the verification mail's link and confirms it. */
async function verifyByMail(page: Page, email: string) {
  const link = linkIn(await mailTo(email, "/o/verify/"));
  await page.goto(link);
  await expect(page.getByRole("heading", { name: "Confirm your email address" })).toBeVisible();
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/account\?done=verified/);
  await expect(page.locator('[data-contact="email"] .badge.ok')).toHaveText("Verified");
}

test("sign-up: the mailed link verifies the address, and the ID Token says so", async ({ page, request }) => {
  const user = `sue${unique()}`;
  const email = `${user}@example.com`;
  await signUp(page, user, email);
  await expect(page.locator('[data-contact="email"] .badge.warn')).toHaveText("Not verified");
  await verifyByMail(page, email);

  await page.goto(`/o/authorize/?response_type=code&client_id=demo&scope=openid%20email&nonce=n1&state=v`);
  await page.getByRole("button", { name: "Approve" }).click();
  const code = (await callbackUrl(page)).searchParams.get("code")!;
  const { status, body } = await exchange(request, {
    grant_type: "authorization_code", code, client_id: "demo", client_secret: "demo-secret",
    redirect_uri: "http://127.0.0.1:8000/callback",
  });
  expect(status).toBe(200);
  const claims = JSON.parse(Buffer.from(body.id_token.split(".")[1], "base64url").toString());
  expect(claims.email).toBe(email);
  expect(claims.email_verified).toBe(true);
});

test("forgot password: the mailed link resets it, and old sessions and refresh tokens die", async ({ browser, request }) => {
  const user = `rex${unique()}`;
  const email = `${user}@example.com`;
  const owner = await browser.newPage();
  await signUp(owner, user, email);
  await verifyByMail(owner, email);
  const grant = await exchange(request, {
    grant_type: "password", username: user, password: PASSWORD, client_id: "demo", client_secret: "demo-secret", scope: "read",
  });
  expect(grant.status).toBe(200);

  const page = await browser.newPage();
  await page.goto("/o/login/");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page.getByRole("heading", { name: "Reset your password" })).toBeVisible();
  await page.getByLabel("Email or phone number").fill(email.toUpperCase());
  // The page's script solves the CAPTCHA's proof of work before the code may be sent.
  await expect(page.locator('input[name="captcha"]')).toHaveAttribute("data-solved", "true");
  await page.getByRole("button", { name: "Send a code" }).click();
  await expect(page).toHaveURL(/\/o\/password\/reset\/\?to=/);
  await expect(page.getByText("If an account uses that address")).toBeVisible();
  const link = linkIn(await mailTo(email, "/o/password/reset/"));
  await page.goto(link);
  await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  await page.getByLabel(/^Password \(at least/).fill("a fresh e2e passphrase");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await expect(page).toHaveURL(/\/o\/login\/\?done=reset/);
  await signIn(page, user, "a fresh e2e passphrase");
  await expect(page).toHaveURL(/\/$/);

  await owner.goto("/account");
  await expect(owner).toHaveURL(/\/o\/login\//);
  const refreshed = await exchange(request, {
    grant_type: "refresh_token", refresh_token: grant.body.refresh_token, client_id: "demo", client_secret: "demo-secret",
  });
  expect(refreshed.status).toBe(400);
  expect(refreshed.body.error).toBe("invalid_grant");
  expect(await mailTo(email, "was just reset")).toContain("signed out");
});

test("phone sign-in by SMS code finishes an authorization-code flow; wrong codes are throttled", async ({ page, request }) => {
  const digits = String(Date.now()).slice(-8);
  const number = `+86139${digits}`;
  await page.goto("/o/authorize/?response_type=code&client_id=demo&scope=openid%20phone&state=ph");
  await expect(page).toHaveURL(/\/o\/login\/\?next=/);
  await page.getByRole("link", { name: "Phone code" }).click();
  await page.getByLabel("Phone number").fill(`139 ${digits.slice(0, 4)} ${digits.slice(4)}`);
  await expect(page.locator('input[name="captcha"]')).toHaveAttribute("data-solved", "true");
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page.getByText(number)).toBeVisible();
  const code = await smsCode(number);
  await page.getByLabel("Code").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Approve" })).toBeVisible();
  await page.getByRole("button", { name: "Approve" }).click();
  const cb = await callbackUrl(page);
  expect(cb.searchParams.get("state")).toBe("ph");
  const { status, body } = await exchange(request, {
    grant_type: "authorization_code", code: cb.searchParams.get("code")!, client_id: "demo", client_secret: "demo-secret",
    redirect_uri: "http://127.0.0.1:8000/callback",
  });
  expect(status).toBe(200);
  const claims = JSON.parse(Buffer.from(body.id_token.split(".")[1], "base64url").toString());
  expect([claims.phone_number, claims.phone_number_verified]).toEqual([number, true]);

  // Another browser, the same number: five wrong codes, then the throttle.
  const other = await page.context().browser()!.newPage();
  await other.goto("/o/login/?method=phone");
  await other.getByLabel("Phone number").fill(number);
  await expect(other.locator('input[name="captcha"]')).toHaveAttribute("data-solved", "true");
  await other.getByRole("button", { name: "Send code" }).click();
  const next = await smsCode(number, code);
  const wrong = next === "000000" ? "111111" : "000000";
  for (let i = 0; i < 5; i++) {
    await other.getByLabel("Code").fill(wrong);
    await other.getByRole("button", { name: "Sign in" }).click();
    await expect(other.getByText("That code is wrong or has expired.")).toBeVisible();
  }
  await other.getByLabel("Code").fill(next);
  await other.getByRole("button", { name: "Sign in" }).click();
  await expect(other.getByText(/Too many attempts/)).toBeVisible();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the CAPTCHA on the forms that send codes says it needs the page's script", async ({ page }) => {
    await page.goto("/o/password/forgot/");
    await page.getByLabel("Email or phone number").fill("nobody@example.com");
    await page.getByRole("button", { name: "Send a code" }).click();
    await expect(page).toHaveURL(/\/o\/password\/forgot\/\?error=captcha/);
    await expect(page.locator(".error")).toContainText("The anti-robot check was not passed");
    await expect(page.locator(".error")).toContainText("needs JavaScript");
  });
});
