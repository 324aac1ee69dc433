// The dcql package's verdict, for a differential test of skillcred's DCQL evaluation.
// stdin: {query, credentials: [{format, claims}]}. stdout: {query_id: [input indexes that match]}
import { DcqlQuery } from 'dcql';
import { readStdinJson } from './common.mjs';

const OB = 'https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential';
const { query, credentials } = await readStdinJson();
const parsed = DcqlQuery.parse(query);
DcqlQuery.validate(parsed);
const result = DcqlQuery.query(parsed, credentials.map((c) => ({
  credential_format: c.format, claims: c.claims, cryptographic_holder_binding: true,
  type: (Array.isArray(c.claims.type) ? c.claims.type : [c.claims.type]).map((t) => (t === 'OpenBadgeCredential' || t === 'AchievementCredential' ? OB : t)),
})));
const out = {};
for (const [qid, m] of Object.entries(result.credential_matches)) {
  out[qid] = m.success ? (m.valid_credentials ?? []).map((v) => v.input_credential_index).sort() : [];
}
process.stdout.write(JSON.stringify(out));
