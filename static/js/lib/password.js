// A strong random room password, from the browser's cryptographic random source.

// No look-alikes (0/O, 1/l/I): people read these out and type them.
const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
// Bytes at or above this would favour the first letters (256 is not a multiple of 57): skipped.
const FAIR_LIMIT = 256 - (256 % ALPHABET.length);

/**
 * 16 characters from 57 give about 93 bits: out of reach of any guessing a room allows.
 * @param {number} length
 * @param {(bytes: Uint8Array) => Uint8Array} fill  crypto.getRandomValues (a stand-in in tests)
 */
export function generatePassword(length = 16, fill = (bytes) => crypto.getRandomValues(bytes)) {
  let password = "";
  while (password.length < length) {
    for (const byte of fill(new Uint8Array(length * 2))) {
      if (byte < FAIR_LIMIT && password.length < length) password += ALPHABET[byte % ALPHABET.length];
    }
  }
  return password;
}
