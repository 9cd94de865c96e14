'use strict';
/**
 * The maxReceiveCount of each queue of infra/queues.yml that has a redrive policy, by logical ID, for the queue
 * functions' MAX_RECEIVE_COUNT: a record re-sent as a delayed copy counts its real failures across copies and
 * dead-letters itself at this many, so the number is read from the template instead of being written twice.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');

const maxReceiveCounts = () => {
  const cloudFormationTags = ['!GetAtt', '!Ref', '!Sub'].map((tag) => ({ tag, resolve: (value) => value }));
  const { Resources } = parse(readFileSync(join(__dirname, 'queues.yml'), 'utf8'), { customTags: cloudFormationTags });
  return Object.fromEntries(
    Object.entries(Resources)
      .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue' && resource.Properties.RedrivePolicy)
      .map(([id, resource]) => [id, resource.Properties.RedrivePolicy.maxReceiveCount]),
  );
};

module.exports = async () => maxReceiveCounts();
module.exports.maxReceiveCounts = maxReceiveCounts;
