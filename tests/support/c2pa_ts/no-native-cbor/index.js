// cbor-x wraps this require in try/catch and falls back to its JavaScript decoder.
throw new Error('no native cbor-extract: cbor-x decodes in JavaScript');
