// An independent C2PA check of one file for atlas's tests: @trustnxt/c2pa-ts reads and validates
// its manifest store; the signer's chain is checked here against the trust anchors given, since
// c2pa-ts leaves chain-of-trust validation to its caller.
// Usage: node validate.mjs FILE [CA.pem]   Prints one JSON object; exit 0 unless it cannot run.
import * as fs from 'node:fs/promises';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { JPEG, PNG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

x509.cryptoProvider.set(webcrypto);

async function trusted(signature, anchorsPem) {
    // Walk from the signer up through the certificates the manifest carries until one is issued by
    // an anchor: each link's signature is checked, and every certificate must be in its validity period.
    const anchors = anchorsPem ? pemCertificates(anchorsPem) : [];
    if (!anchors.length || !signature?.certificate) return { trusted: false, reason: 'no trust anchor given' };
    const now = new Date();
    let current = new x509.X509Certificate(signature.certificate.rawData);
    const chain = (signature.chainCertificates ?? []).map((c) => new x509.X509Certificate(c.rawData));
    for (let depth = 0; depth <= chain.length; depth++) {
        if (current.notBefore > now || current.notAfter < now)
            return { trusted: false, reason: `${current.subject} is outside its validity period` };
        for (const anchor of anchors) {
            if (anchor.subject === current.issuer && (await current.verify({ publicKey: anchor.publicKey, signatureOnly: true })))
                return { trusted: true, anchor: anchor.subject };
        }
        const issuer = chain.find((c) => c.subject === current.issuer && c !== current);
        if (!issuer || !(await current.verify({ publicKey: issuer.publicKey, signatureOnly: true })))
            return { trusted: false, reason: `no trusted issuer for ${current.subject}` };
        current = issuer;
    }
    return { trusted: false, reason: 'chain too long' };
}

function pemCertificates(pem) {
    return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map(
        (m) => new x509.X509Certificate(m[0]),
    );
}

const [file, caFile] = process.argv.slice(2);
if (!file) {
    console.error('usage: node validate.mjs FILE [CA.pem]');
    process.exit(2);
}
const buf = new Uint8Array(await fs.readFile(file));
const anchors = caFile ? await fs.readFile(caFile, 'utf8') : null;
let asset;
if (JPEG.canRead(buf)) asset = new JPEG(buf);
else if (PNG.canRead(buf)) asset = new PNG(buf);
if (!asset) {
    console.log(JSON.stringify({ supported: false, manifest: false }));
    process.exit(0);
}
const jumbf = asset.getManifestJUMBF();
if (!jumbf) {
    console.log(JSON.stringify({ supported: true, manifest: false }));
    process.exit(0);
}
let result, store;
try {
    store = ManifestStore.read(SuperBox.fromBuffer(jumbf));
    result = await store.validate(asset);
} catch (e) {
    result = ValidationResult.fromError(e);
}
const active = store?.getActiveManifest();
const cert = active?.signature?.signatureData?.certificate;
const trust = result.isValid ? await trusted(active?.signature?.signatureData, anchors) : { trusted: false, reason: 'invalid' };
const labels = (active?.assertions?.assertions ?? []).map((a) => a.fullLabel ?? a.label);
const ingredients = (active?.assertions?.assertions ?? [])
    .filter((a) => a.relationship !== undefined)
    .map((a) => ({ relationship: a.relationship, title: a.title, manifest: (a.activeManifest ?? a.c2pa_manifest)?.uri ?? null }));
console.log(
    JSON.stringify({
        supported: true,
        manifest: true,
        valid: result.isValid,
        errors: result.statusEntries.filter((e) => !e.success).map((e) => `${e.code}: ${e.explanation ?? ''}`.trim()),
        trusted: trust.trusted,
        trust: trust.reason ?? trust.anchor,
        active_manifest: active?.label ?? null,
        manifests: (store?.manifests ?? []).map((m) => m.label),
        signer: cert ? new x509.X509Certificate(cert.rawData).subject : null,
        assertions: labels,
        ingredients,
    }),
);
