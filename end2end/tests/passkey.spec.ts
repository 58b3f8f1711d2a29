import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { callbackUrl, exchange, password } from "./helpers";

// Passkeys with Chromium's virtual authenticator (DevTools protocol, WebAuthn domain): register
// one on the security page, sign in with it alone, then use it as the second step of an
// authorization request that asks for two factors; the ID Token's amr says so. Browsers refuse
// an IP address as the relying party, so this runs against a server of its own whose issuer is
// http://localhost:PORT (YAOSHI_PASSKEY_URL, started by .ci/test.sh with the user "penny" and
// the client "passkey-rp").
const BASE = process.env.YAOSHI_PASSKEY_URL;
test.skip(!BASE, "needs YAOSHI_PASSKEY_URL: a server whose issuer is http://localhost:PORT");
test.use({ baseURL: BASE });

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"];
const AUTHORIZE =
  "/o/authorize/?response_type=code&client_id=passkey-rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Frp" +
  "&scope=openid&nonce=n-passkey&state=s-passkey&acr_values=urn%3Ayaoshi%3Aacr%3Amfa";

async function axe(page: Page, name: string) {
  const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = violations.map((v) => `${name} [${v.impact}] ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(found, found.join("\n")).toEqual([]);
}

async function passwordStep(page: Page) {
  await page.waitForURL(/\/o\/login\//);
  await page.locator("#username").fill("penny");
  await page.locator("#password").fill(password("penny"));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

// The browser forgets the site's cookies (the authenticator keeps its credential).
async function signOut(page: Page) {
  await page.waitForLoadState("load");
  await page.context().clearCookies();
  await page.goto("/account");
  await page.waitForURL(/\/o\/login\//);
}

test("passkeys: register, sign in without a password, second step of an MFA request", async ({ page, request }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });

  // Register one on the security page.
  await page.goto("/o/login/?next=%2Faccount%2Fsecurity");
  await passwordStep(page);
  await page.waitForURL(/\/account\/security/);
  await expect(page.locator("#passkey-add")).toBeVisible();
  await expect(page.locator("[data-passkey-unsupported]")).toBeHidden();
  await expect(page.getByText("No passkeys yet.")).toBeVisible();
  await page.getByLabel("Name of the passkey").fill("Laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByText("The passkey was added.")).toBeVisible();
  await expect(page.locator("li.passkey .passkey-name")).toHaveText("Laptop");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);
  await axe(page, "security page with a passkey");

  // Signed out: "Sign in with a passkey", no username.
  await signOut(page);
  await page.goto("/o/login/?next=%2Faccount");
  await expect(page.locator("#passkey-sign-in")).toBeVisible();
  await axe(page, "login page with the passkey button");
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.waitForURL(/\/account$/);
  await page.goto("/account/security");
  await expect(page.locator("li.passkey")).toContainText("last used");

  // An authorization request asking for two factors: the password, then the passkey.
  await signOut(page);
  await page.goto(AUTHORIZE);
  await passwordStep(page);
  await page.waitForURL(/\/o\/login\/mfa\//);
  await expect(page.locator("#passkey-second-step")).toBeVisible();
  await axe(page, "second step with the passkey");
  await page.getByRole("button", { name: "Use a passkey" }).click();
  const callback = await callbackUrl(page);
  expect(callback.searchParams.get("state")).toBe("s-passkey");
  const { status, body } = await exchange(request, {
    grant_type: "authorization_code",
    code: callback.searchParams.get("code")!,
    redirect_uri: "http://127.0.0.1:8000/rp",
    client_id: "passkey-rp",
    client_secret: "passkey-rp-secret",
  });
  expect(status, JSON.stringify(body)).toBe(200);
  const claims = JSON.parse(Buffer.from(body.id_token.split(".")[1], "base64url").toString());
  expect(claims.amr).toContain("pwd");
  expect(claims.amr.some((m: string) => m === "hwk" || m === "swk")).toBe(true);
  expect(claims.amr).toContain("mfa");
  expect(claims.acr).toBe("urn:yaoshi:acr:mfa");
});
