import { test, expect, Page } from "@playwright/test";
import { password, signIn } from "./helpers";

// The device authorization grant (RFC 8628): this test process plays the device (the public
// client `tv-device`, .ci/test.sh), asking for codes and polling the token endpoint as
// RFC 8628 §3.4-3.5 say, while the browser signs in at /o/device/ and decides.
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

interface Authorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

async function startDevice(base: string): Promise<Authorization> {
  const r = await fetch(`${base}/o/device/authorize/`, {
    method: "POST",
    body: new URLSearchParams({ client_id: "tv-device", scope: "openid profile" }),
  });
  expect(r.status).toBe(200);
  return r.json();
}

interface Poll {
  at: number;
  status: number;
  body: Record<string, string>;
}

/** Polls until an answer other than authorization_pending / slow_down, honouring `interval`
 *  and its growth by 5 s on slow_down. With `eager`, the second poll comes at once, which the
 *  server must answer with slow_down. */
async function pollUntilDone(base: string, a: Authorization, eager: boolean): Promise<Poll[]> {
  const polls: Poll[] = [];
  let interval = a.interval;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await fetch(`${base}/o/token/`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: a.device_code, client_id: "tv-device" }),
    });
    const poll = { at: Date.now(), status: r.status, body: await r.json() };
    polls.push(poll);
    if (poll.body.error === "slow_down") interval += 5;
    else if (poll.body.error !== "authorization_pending") return polls;
    const wait = eager && polls.length === 1 ? 0 : interval * 1000 + 200;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  throw new Error(`no answer but pending within 60 s: ${JSON.stringify(polls)}`);
}

async function confirmPage(page: Page, a: Authorization) {
  await expect(page.getByRole("heading", { name: "Connect a device" })).toBeVisible();
  await expect(page.locator(".user-code")).toHaveText(a.user_code);
  await expect(page.getByText("Living Room TV")).toBeVisible();
}

test("the device polls, slows down when told, and gets tokens once the user approves", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const a = await startDevice(baseURL!);
  expect(a.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  expect(a.verification_uri).toBe(`${baseURL}/o/device/`);
  expect(a.interval).toBe(5);
  const device = pollUntilDone(baseURL!, a, true);

  await page.goto(a.verification_uri_complete);
  await signIn(page, "xavier", password("xavier"));
  await confirmPage(page, a);
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.locator("p.notice")).toHaveText(/your device is signed in/);

  const polls = await device;
  const errors = polls.map((p) => p.body.error ?? "tokens");
  expect(errors[0]).toBe("authorization_pending");
  expect(errors[1]).toBe("slow_down");
  expect(errors.filter((e) => e === "slow_down")).toHaveLength(1);
  expect(errors.at(-1)).toBe("tokens");
  // After slow_down every poll waited at least the grown interval.
  for (let i = 2; i < polls.length; i++) expect(polls[i].at - polls[i - 1].at).toBeGreaterThanOrEqual(10_000);
  const tokens = polls.at(-1)!.body;
  expect(tokens.access_token).toMatch(/^yat_/);
  expect(tokens.refresh_token).toMatch(/^yrt_/);
  const info = await fetch(`${baseURL}/o/userinfo/`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  expect((await info.json()).preferred_username).toBe("xavier");

  // The code is spent: the page no longer offers it.
  await page.goto(a.verification_uri_complete);
  await expect(page.getByText("That code is wrong or has expired.")).toBeVisible();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("typing the code and denying gives the device access_denied", async ({ page, baseURL }) => {
    test.setTimeout(90_000);
    const a = await startDevice(baseURL!);
    const device = pollUntilDone(baseURL!, a, false);
    await page.goto("/o/device/");
    await signIn(page, "xavier", password("xavier"), false);
    await expect(page.getByText("Enter the code your device shows.")).toBeVisible();
    // Lowercase and without the dash is the same code.
    await page.getByLabel("Code").fill(a.user_code.replace("-", "").toLowerCase());
    await page.getByRole("button", { name: "Continue" }).click();
    await confirmPage(page, a);
    await page.getByRole("button", { name: "Deny" }).click();
    await expect(page.locator("p.device-denied")).toHaveText(/the device was not signed in/);
    const polls = await device;
    expect(polls.at(-1)!.status).toBe(400);
    expect(polls.at(-1)!.body.error).toBe("access_denied");
  });

  test("a wrong code is refused on the page", async ({ page }) => {
    await page.goto("/o/device/?user_code=BCDF-GHJK");
    await signIn(page, "xavier", password("xavier"), false);
    await expect(page.getByText("That code is wrong or has expired.")).toBeVisible();
    await expect(page.getByLabel("Code")).toHaveValue("BCDF-GHJK");
  });
});
