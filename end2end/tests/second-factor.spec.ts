import { test, expect, Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import { callbackUrl, exchange, password, signIn } from "./helpers";

// TOTP as an authenticator app computes it (RFC 6238 over RFC 4226: HMAC-SHA1, 6 digits,
// 30-second steps), from the key the security page shows in base32 (RFC 4648).
function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of text.replace(/[\s=]/g, "").toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

function totp(secret: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hs = createHmac("sha1", secret).update(counter).digest();
  const offset = hs[19] & 0x0f;
  const bin = ((hs[offset] & 0x7f) << 24) | (hs[offset + 1] << 16) | (hs[offset + 2] << 8) | hs[offset + 3];
  return String(bin % 1_000_000).padStart(6, "0");
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);

// The RFC's own vector, so the spec's TOTP is known to be right before it is trusted.
test("the spec's TOTP matches RFC 6238 Appendix B", () => {
  const seed = Buffer.from("12345678901234567890");
  expect(totp(seed, 1)).toBe("287082");
  expect(totp(seed, Math.floor(1111111109 / 30))).toBe("081804");
  expect(base32Decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").equals(seed)).toBe(true);
});

const AUTHORIZE =
  "/o/authorize/?response_type=code&client_id=logout-rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Frp" +
  "&scope=openid&nonce=n-totp&state=s-totp";

// The browser forgets its session (and every other cookie of the site): the next sign-in
// starts from nothing, as in a fresh browser.
// A navigation the last form started may still be under way and abort this one: then wait
// for it and go again.
async function signOut(page: Page) {
  await page.waitForLoadState("load");
  await page.context().clearCookies();
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto("/account");
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.waitForLoadState("load");
      await page.context().clearCookies();
    }
  }
  await page.waitForURL(/\/o\/login\//);
}

async function secondStep(page: Page, code: string) {
  await page.waitForURL(/\/o\/login\/mfa\//);
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
}

test("TOTP: enrol, sign in with password and code, amr in the ID Token, replay refused, recovery code once", async ({
  page,
  request,
}) => {
  // Enrol from the security page.
  await page.goto("/o/login/?next=%2Faccount%2Fsecurity");
  await signIn(page, "quinn", password("quinn"));
  await page.waitForURL(/\/account\/security/);
  await expect(page.getByText("Two-step verification is off.")).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.getByRole("img", { name: "QR code for your authenticator app" }).locator("svg")).toBeVisible();
  const secret = base32Decode((await page.locator(".totp-secret").textContent()) ?? "");
  expect(secret.length).toBe(20);
  const confirmed = stepNow();
  await page.getByLabel("Code from the app").fill(totp(secret, confirmed));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByText("Two-step verification is on.")).toBeVisible();
  const recovery = await page.locator(".recovery-codes code").allTextContents();
  expect(recovery).toHaveLength(10);
  await page.reload();
  await expect(page.locator(".recovery-codes")).toHaveCount(0);
  await expect(page.locator("li.factor")).toHaveCount(1);

  // Signed out, an authorization request needs the password, then the code.
  await signOut(page);
  await page.goto(AUTHORIZE);
  await signIn(page, "quinn", password("quinn"));
  // The code that confirmed the enrolment was accepted once: it is refused now.
  await secondStep(page, totp(secret, confirmed));
  await expect(page.getByText("That code was used already")).toBeVisible();
  await expect(page).toHaveURL(/\/o\/login\/mfa\//);
  await page.getByLabel("Code").fill(totp(secret, confirmed + 1));
  await page.getByRole("button", { name: "Verify" }).click();
  const callback = await callbackUrl(page);
  expect(callback.searchParams.get("state")).toBe("s-totp");
  const code = callback.searchParams.get("code")!;
  const { status, body } = await exchange(request, {
    grant_type: "authorization_code",
    code,
    redirect_uri: "http://127.0.0.1:8000/rp",
    client_id: "logout-rp",
    client_secret: "logout-rp-secret",
  });
  expect(status).toBe(200);
  const claims = JSON.parse(Buffer.from(body.id_token.split(".")[1], "base64url").toString());
  expect(claims.amr).toContain("otp");
  expect(claims.amr).toContain("mfa");
  expect(claims.acr).toBe("urn:yaoshi:acr:mfa");

  // The password grant is refused for an account with a second factor.
  const grant = await exchange(request, {
    grant_type: "password", username: "quinn", password: password("quinn"),
    client_id: "demo", client_secret: "demo-secret",
  });
  expect(grant.status).toBe(400);
  expect(grant.body.error).toBe("invalid_grant");

  // A recovery code works once.
  await signOut(page);
  await page.goto("/o/login/?next=%2Faccount");
  await signIn(page, "quinn", password("quinn"));
  await secondStep(page, recovery[0]);
  await page.waitForURL(/\/account$/);
  await signOut(page);
  await page.goto("/o/login/?next=%2Faccount");
  await signIn(page, "quinn", password("quinn"));
  await secondStep(page, recovery[0]);
  await expect(page.getByText("That code is wrong or has expired.")).toBeVisible();
  await expect(page).toHaveURL(/\/o\/login\/mfa\//);
});
