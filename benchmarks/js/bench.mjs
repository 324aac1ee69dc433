// The JavaScript reference (@digitalbazaar/vc), measured on the same credentials as
// benchmarks/run.py, so the Python/JavaScript ratio is measured side by side.
//
//   node benchmarks/js/bench.mjs <input.json>
//
// input.json (written by run.py): {"contexts": "<repo>/contexts", "n": N, "warmup": W,
//   "credentials": [unsigned credential, ...]}. Prints one JSON object:
//   {"node": version, "packages": {...}, "suites": {suite: {issue_per_s, verify_per_s,
//   vp10_verify_ms}}}. Contexts are served offline from the bundled folder (MANIFEST.json);
//   did:key documents are built from the generated keys. Packages are resolved from
//   temp/benchmarks/node_modules (NODE_PATH is not used by ESM; run.py runs this file from a
//   copy inside that folder).
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {cryptosuite as ecdsaRdfc2019} from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import {createSignCryptosuite as jcsSign, createVerifyCryptosuite as jcsVerify}
  from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const manifest = JSON.parse(readFileSync(join(input.contexts, 'MANIFEST.json'), 'utf8'));
const contexts = new Map();
for(const [url, entry] of Object.entries(manifest)) {
  contexts.set(url, JSON.parse(readFileSync(join(input.contexts, entry.file), 'utf8')));
}
const didDocuments = new Map();

const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  const base = url.split('#')[0];
  if(didDocuments.has(base)) {
    const doc = didDocuments.get(base);
    if(url.includes('#')) {
      const vm = doc.verificationMethod.find(m => m.id === url);
      return {contextUrl: null, documentUrl: url, document: {'@context': MULTIKEY_V1, ...vm}};
    }
    return {contextUrl: null, documentUrl: url, document: doc};
  }
  throw new Error(`offline loader: ${url} is not available`);
}

async function keyPair(kind) {
  const key = kind === 'p256' ?
    await EcdsaMultikey.generate({curve: 'P-256'}) :
    await Ed25519Multikey.generate();
  const did = `did:key:${key.publicKeyMultibase}`;
  key.controller = did;
  key.id = `${did}#${key.publicKeyMultibase}`;
  const vm = await key.export({publicKey: true, includeContext: false});
  didDocuments.set(did, {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [vm],
    assertionMethod: [vm.id],
    authentication: [vm.id]
  });
  return key;
}

const SUITES = {
  'eddsa-rdfc-2022': {kind: 'ed25519',
    sign: key => new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022}),
    verify: () => new DataIntegrityProof({cryptosuite: eddsaRdfc2022})},
  'ecdsa-rdfc-2019': {kind: 'p256',
    sign: key => new DataIntegrityProof({signer: key.signer(), cryptosuite: ecdsaRdfc2019}),
    verify: () => new DataIntegrityProof({cryptosuite: ecdsaRdfc2019})},
  'eddsa-jcs-2022': {kind: 'ed25519',
    sign: key => new DataIntegrityProof({signer: key.signer(), cryptosuite: jcsSign()}),
    verify: () => new DataIntegrityProof({cryptosuite: jcsVerify()})}
};

const checkStatus = async () => ({verified: true});

function withIssuer(credential, did) {
  const copy = structuredClone(credential);
  if(typeof copy.issuer === 'object' && copy.issuer !== null) {
    copy.issuer.id = did;
  } else {
    copy.issuer = did;
  }
  return copy;
}

async function timeIt(n, fn) {
  const t0 = performance.now();
  for(let i = 0; i < n; ++i) {
    await fn(i);
  }
  return (performance.now() - t0) / 1000;
}

async function measure(name, spec) {
  const issuer = await keyPair(spec.kind);
  const holder = await keyPair(spec.kind);
  const creds = input.credentials.map(c => withIssuer(c, issuer.controller));
  const n = Math.min(input.n, creds.length);
  const issue = i => vc.issue({credential: creds[i % creds.length], suite: spec.sign(issuer),
    documentLoader});
  for(let i = 0; i < input.warmup; ++i) {
    await issue(i);
  }
  const signed = [];
  const issueS = await timeIt(n, async i => signed.push(await issue(i)));
  const verifyOne = credential => vc.verifyCredential({credential, suite: spec.verify(),
    documentLoader, checkStatus});
  const first = await verifyOne(signed[0]);
  if(!first.verified) {
    throw new Error(`${name}: a signed credential does not verify: ` +
      JSON.stringify(first.error || first, null, 1).slice(0, 2000));
  }
  const verifyS = await timeIt(n, async i => {
    const r = await verifyOne(signed[i]);
    if(!r.verified) {
      throw new Error(`${name}: verification failed`);
    }
  });
  // a presentation of 10 credentials, signed by the holder with a challenge
  const presentation = vc.createPresentation({verifiableCredential: signed.slice(0, 10),
    holder: holder.controller});
  const challenge = 'bench-challenge-1';
  const vp = await vc.signPresentation({presentation, suite: spec.sign(holder), challenge,
    documentLoader});
  const verifyVp = () => vc.verify({presentation: vp, challenge, suite: spec.verify(),
    documentLoader, checkStatus});
  const vpFirst = await verifyVp();
  if(!vpFirst.verified) {
    throw new Error(`${name}: the presentation does not verify: ` +
      JSON.stringify(vpFirst.error || vpFirst, null, 1).slice(0, 2000));
  }
  const rounds = Math.max(3, Math.floor(n / 10));
  const vpS = await timeIt(rounds, async () => {
    const r = await verifyVp();
    if(!r.verified) {
      throw new Error(`${name}: presentation verification failed`);
    }
  });
  return {
    issue_per_s: n / issueS,
    verify_per_s: n / verifyS,
    vp10_verify_ms: 1000 * vpS / rounds,
    n
  };
}

const here = fileURLToPath(new URL('.', import.meta.url));
function version(pkg) {
  try {
    return JSON.parse(readFileSync(join(here, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch{
    return '?';
  }
}

const out = {node: process.version, packages: {}, suites: {}};
for(const pkg of ['@digitalbazaar/vc', '@digitalbazaar/data-integrity', 'jsonld',
  'jsonld-signatures', 'rdf-canonize', '@digitalbazaar/eddsa-rdfc-2022-cryptosuite',
  '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite', '@digitalbazaar/eddsa-jcs-2022-cryptosuite']) {
  out.packages[pkg] = version(pkg);
}
for(const [name, spec] of Object.entries(SUITES)) {
  if(input.suites && !input.suites.includes(name)) {
    continue;
  }
  try {
    out.suites[name] = await measure(name, spec);
  } catch(e) {
    out.suites[name] = {error: String(e && e.message || e).slice(0, 2000)};
  }
}
console.log(JSON.stringify(out));
