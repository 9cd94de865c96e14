'use strict';
/**
 * The URL of each queue of infra/queues.yml, by logical ID, for function environments (DEAD_LETTER_QUEUE_URL):
 *   deployed          `{ Ref: <logical ID> }`, which CloudFormation resolves to the queue's URL;
 *   under npm start   the local queue's URL, from the `localQueueUrls` parameter (JSON, logical ID to URL) that
 *                     infra/local/start.ts passes: serverless-offline puts an unresolved Ref into the
 *                     environment as it is, so a Ref would never reach the local queue.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');

/** The logical IDs of the template's queues (CloudFormation short-form tags read as plain values). */
const queueLogicalIds = () => {
  const cloudFormationTags = ['!GetAtt', '!Ref', '!Sub'].map((tag) => ({ tag, resolve: (value) => value }));
  const { Resources } = parse(readFileSync(join(__dirname, 'queues.yml'), 'utf8'), { customTags: cloudFormationTags });
  return Object.keys(Resources).filter((id) => Resources[id].Type === 'AWS::SQS::Queue');
};

/** Logical ID to URL: a Ref each, or with `localQueueUrls` (a JSON object) the local URLs, every queue required. */
const queueUrls = (localQueueUrls) => {
  const ids = queueLogicalIds();
  if (!localQueueUrls) return Object.fromEntries(ids.map((id) => [id, { Ref: id }]));
  const local = JSON.parse(localQueueUrls);
  return Object.fromEntries(
    ids.map((id) => {
      const url = local[id];
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error(`localQueueUrls: no URL for ${id}`);
      return [id, url];
    }),
  );
};

module.exports = async ({ resolveVariable }) => queueUrls(await resolveVariable('param:localQueueUrls, ""'));
module.exports.queueUrls = queueUrls;
