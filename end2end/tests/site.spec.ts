import { test, expect } from "@playwright/test";

// The test command runs the release binary copied alone into an empty directory: the WASM,
// JS, CSS and favicon below can only come from inside it.
test("the binary alone serves its site, and the page hydrates from it", async ({ page, request }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const failed: string[] = [];
  page.on("requestfailed", (r) => failed.push(r.url()));
  await page.goto("/o/login/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  // The page is laid out by the embedded stylesheet (`.page` is a flex container there).
  const display = await page.locator("main.page").evaluate((m) => getComputedStyle(m).display);
  expect(display).toBe("flex");
  expect(errors).toEqual([]);
  expect(failed).toEqual([]);

  const wasm = await page.locator('link[rel=preload][type="application/wasm"]').getAttribute("href");
  const css = await page.locator("link[rel=stylesheet]").getAttribute("href");
  expect(wasm).toMatch(/^\/pkg\/yaoshi\.wasm\?v=[0-9a-f]{16}$/);
  expect(css).toMatch(/^\/pkg\/yaoshi\.css\?v=[0-9a-f]{16}$/);

  // A versioned URL is immutable for a year; the same file unversioned revalidates by ETag.
  const versioned = await request.get(wasm!);
  expect(versioned.status()).toBe(200);
  expect(versioned.headers()["content-type"]).toBe("application/wasm");
  expect(versioned.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  const etag = versioned.headers()["etag"];
  expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
  expect(etag).toBe(`"${wasm!.split("v=")[1]}"`);
  const plain = await request.get("/pkg/yaoshi.wasm");
  expect(plain.headers()["cache-control"]).toBe("public, no-cache");
  const again = await request.get("/pkg/yaoshi.wasm", { headers: { "if-none-match": etag } });
  expect(again.status()).toBe(304);

  const favicon = await request.get("/favicon.svg");
  expect(favicon.status()).toBe(200);
  expect(favicon.headers()["content-type"]).toBe("image/svg+xml");
  expect((await request.get("/pkg/nothing.js")).status()).toBe(404);
});
