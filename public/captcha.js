// The browser's side of the CAPTCHA on the forms that send codes (src/service/captcha.rs).
// A proof-of-work field (<input name="captcha" data-pow-bits>) holds the server's challenge:
// find the first counter such that SHA-256("CHALLENGE:COUNTER") starts with that many zero
// bits, and put "CHALLENGE:COUNTER" in the field. A provider's widget calls
// yaoshiCaptchaSolved(token) instead, which fills every CAPTCHA field of the page.
window.yaoshiCaptchaSolved = (token) => {
  for (const field of document.querySelectorAll('input[name="captcha"]')) field.value = token;
};

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const W = new Uint32Array(64);
const ror = (x, n) => (x >>> n) | (x << (32 - n));

// SHA-256's compression function (FIPS 180-4 §6.2.2): one 64-byte block of `view` at
// `offset` into the state `H`.
function compress(H, view, offset) {
  for (let i = 0; i < 16; i++) W[i] = view.getUint32(offset + 4 * i);
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15], b = W[i - 2];
    W[i] = W[i - 16] + (ror(a, 7) ^ ror(a, 18) ^ (a >>> 3)) + W[i - 7] + (ror(b, 17) ^ ror(b, 19) ^ (b >>> 10));
  }
  let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) >>> 0;
    const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
    h = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
  }
  H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
}

// Hashes `prefix` + a counter, over and over: the prefix's whole blocks are compressed once,
// and each call hashes only the last one or two. Returns the digest's first 32 bits (all the
// check looks at). ASCII only, which challenges are.
function hasher(prefix) {
  const H0 = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const whole = prefix.length - (prefix.length % 64);
  const first = new DataView(new ArrayBuffer(64));
  for (let block = 0; block < whole; block += 64) {
    for (let i = 0; i < 64; i++) first.setUint8(i, prefix.charCodeAt(block + i));
    compress(H0, first, 0);
  }
  const rest = prefix.slice(whole);
  const tail = new Uint8Array(128);
  const view = new DataView(tail.buffer);
  const H = new Uint32Array(8);
  return (counter) => {
    const text = rest + counter;
    const length = text.length;
    const size = length + 9 > 64 ? 128 : 64;
    tail.fill(0, 0, size);
    for (let i = 0; i < length; i++) tail[i] = text.charCodeAt(i);
    tail[length] = 0x80;
    view.setUint32(size - 4, (whole + length) * 8);
    H.set(H0);
    compress(H, view, 0);
    if (size === 128) compress(H, view, 64);
    return H[0];
  };
}

// Solves one field, yielding to the page every few thousand hashes.
async function solve(field) {
  const challenge = field.value;
  const bits = Number(field.dataset.powBits);
  const head = hasher(`${challenge}:`);
  for (let counter = 0; ; counter++) {
    if (Math.clz32(head(counter)) >= bits) {
      field.value = `${challenge}:${counter}`;
      field.dataset.solved = "true";
      return;
    }
    if (counter % 4096 === 4095) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

for (const field of document.querySelectorAll('input[name="captcha"][data-pow-bits]')) solve(field);
