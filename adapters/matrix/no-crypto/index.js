// Stand-in for @matrix-org/matrix-sdk-crypto-nodejs. The real package downloads a native library
// from outside the npm registry at install time, which these machines cannot reach; the Matrix
// SDK only touches this module when encryption is used. Every use throws one clear error, and
// the bot refuses politely in encrypted rooms (see adapters/matrix/client.ts).
"use strict";

const MESSAGE = "end-to-end encryption is not available in this build of d-pool";

class EncryptionUnavailable extends Error {
  constructor() {
    super(MESSAGE);
    this.name = "EncryptionUnavailable";
  }
}

function unavailable() {
  throw new EncryptionUnavailable();
}

module.exports = new Proxy(
  { __esModule: false, EncryptionUnavailable, MESSAGE },
  {
    get(target, name) {
      if (name in target) return target[name];
      if (typeof name === "symbol" || name === "then") return undefined;
      return unavailable;
    },
  },
);
