'use strict';
/**
 * Loads the state machine definitions for serverless.yml (serverless-step-functions).
 *
 * The .asl.json files are plain Amazon States Language, loadable as they are by tests and local runners
 * (aws-local-stepfunctions). The Lambda functions they invoke appear as `${CreateGroupWorkflowArn}`-style
 * placeholders (the CloudFormation DefinitionSubstitutions convention); here each becomes an `Fn::GetAtt` of
 * the function, which serverless-step-functions turns into the function's ARN in the template.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Placeholder -> logical ID of the Lambda function it stands for. */
const FUNCTIONS = {
  CreateGroupWorkflowArn: 'CreateGroupWorkflowLambdaFunction',
  CreateContactWorkflowArn: 'CreateContactWorkflowLambdaFunction',
};

const substitute = (value, where) => {
  if (typeof value === 'string') {
    const placeholder = /^\$\{([A-Za-z0-9]+)\}$/.exec(value);
    if (placeholder) {
      const logicalId = FUNCTIONS[placeholder[1]];
      if (!logicalId) throw new Error(`${where}: unknown placeholder ${value}`);
      return { 'Fn::GetAtt': [logicalId, 'Arn'] };
    }
    // The compiled definition goes through Fn::Sub: any other `${` would be read as a CloudFormation variable.
    if (value.includes('${')) throw new Error(`${where}: "\${" may only appear as a whole-value placeholder`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, `${where}.${k}`)]));
  }
  return value;
};

/** The definition in `file` (under infra/state-machines/) with its placeholders resolved. */
const load = (file) => substitute(JSON.parse(readFileSync(join(__dirname, file), 'utf8')), file);

module.exports = {
  openTeamRoom: () => load('open-team-room.asl.json'),
  load,
  FUNCTIONS,
};
