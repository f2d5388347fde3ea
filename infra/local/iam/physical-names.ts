/**
 * What a `Ref` or `Fn::GetAtt` of a resource evaluates to when the template itself names the
 * resource (`TableName`, `QueueName`, `BucketName`, …): the name, or the ARN in the service's
 * standard format. Resources the template leaves unnamed (CloudFormation would generate a name)
 * are the local platform's to name; for those this resolver answers `undefined`.
 *
 * ARN formats: the "Resource types" table of each service in the Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 * Return values of `Ref`/`Fn::GetAtt`: the "Return values" section of each resource type in
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html
 */
import type { PhysicalRef, PhysicalResolver, TemplateResource } from './cfn-intrinsics.ts';

export interface ArnScope {
  readonly accountId: string;
  readonly region: string;
}

/** Standard ARNs of the resource types the Tenantry templates grant access to. */
export function arnsIn({ accountId, region }: ArnScope) {
  const regional = (service: string, resource: string) =>
    `arn:aws:${service}:${region}:${accountId}:${resource}`;
  return {
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html */
    dynamodbTable: (name: string) => regional('dynamodb', `table/${name}`),
    dynamodbIndex: (table: string, index: string) => regional('dynamodb', `table/${table}/index/${index}`),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html */
    eventBus: (name: string) => regional('events', `event-bus/${name}`),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html */
    stateMachine: (name: string) => regional('states', `stateMachine:${name}`),
    execution: (machine: string, execution: string) =>
      regional('states', `execution:${machine}:${execution}`),
    /**
     * AWS adds a random `-XXXXXX` to the name; the local secret store does not (a documented
     * difference), so this is the local ARN of a secret of that name.
     * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
     */
    secret: (name: string) => regional('secretsmanager', `secret:${name}`),
    /**
     * The Data API's resource is the cluster, in the RDS format.
     * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrdsdataapi.html
     * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html
     */
    rdsCluster: (identifier: string) => regional('rds', `cluster:${identifier}`),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html */
    s3Bucket: (name: string) => `arn:aws:s3:::${name}`,
    s3Object: (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`,
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html */
    kmsKey: (keyId: string) => regional('kms', `key/${keyId}`),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html */
    sqsQueue: (name: string) => regional('sqs', name),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncognitouserpools.html */
    userPool: (id: string) => regional('cognito-idp', `userpool/${id}`),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html */
    logGroup: (name: string) => regional('logs', `log-group:${name}`),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html */
    lambdaFunction: (name: string) => regional('lambda', `function:${name}`),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html */
    snsTopic: (name: string) => regional('sns', name),
    /** https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html */
    role: (name: string, path = '/') => `arn:aws:iam::${accountId}:role${path}${name}`,
    managedPolicy: (name: string, path = '/') => `arn:aws:iam::${accountId}:policy${path}${name}`,
  };
}

type Answer = (
  name: string,
  attribute: string | undefined,
  properties: Readonly<Record<string, unknown>>,
) => string | undefined;

/**
 * Per resource type: the property that names it, and what `Ref` (attribute `undefined`) and each
 * `Fn::GetAtt` attribute return given that name.
 */
function answers(
  scope: ArnScope,
): Readonly<Record<string, { readonly nameProperty: string; readonly answer: Answer }>> {
  const arn = arnsIn(scope);
  const path = (properties: Readonly<Record<string, unknown>>) =>
    typeof properties.Path === 'string' ? properties.Path : '/';
  return {
    // Ref: the table name. GetAtt Arn: the table ARN.
    'AWS::DynamoDB::Table': {
      nameProperty: 'TableName',
      answer: (name, attribute) =>
        attribute === undefined ? name : attribute === 'Arn' ? arn.dynamodbTable(name) : undefined,
    },
    // Ref: the bus name. GetAtt Arn, Name.
    'AWS::Events::EventBus': {
      nameProperty: 'Name',
      answer: (name, attribute) =>
        attribute === undefined || attribute === 'Name'
          ? name
          : attribute === 'Arn'
            ? arn.eventBus(name)
            : undefined,
    },
    // Ref: the state machine ARN. GetAtt Arn, Name.
    'AWS::StepFunctions::StateMachine': {
      nameProperty: 'StateMachineName',
      answer: (name, attribute) =>
        attribute === 'Name'
          ? name
          : attribute === undefined || attribute === 'Arn'
            ? arn.stateMachine(name)
            : undefined,
    },
    // Ref: the secret ARN. GetAtt Id: the ARN as well.
    'AWS::SecretsManager::Secret': {
      nameProperty: 'Name',
      answer: (name, attribute) =>
        attribute === undefined || attribute === 'Id' ? arn.secret(name) : undefined,
    },
    // Ref: the cluster identifier, which RDS stores in lower case. GetAtt DBClusterArn.
    'AWS::RDS::DBCluster': {
      nameProperty: 'DBClusterIdentifier',
      answer: (name, attribute) => {
        const identifier = name.toLowerCase();
        if (attribute === undefined) return identifier;
        return attribute === 'DBClusterArn' ? arn.rdsCluster(identifier) : undefined;
      },
    },
    // Ref: the bucket name. GetAtt Arn.
    'AWS::S3::Bucket': {
      nameProperty: 'BucketName',
      answer: (name, attribute) =>
        attribute === undefined ? name : attribute === 'Arn' ? arn.s3Bucket(name) : undefined,
    },
    // Ref: the queue URL. GetAtt Arn, QueueName, QueueUrl.
    'AWS::SQS::Queue': {
      nameProperty: 'QueueName',
      answer: (name, attribute) => {
        if (attribute === undefined || attribute === 'QueueUrl') {
          return `https://sqs.${scope.region}.amazonaws.com/${scope.accountId}/${name}`;
        }
        return attribute === 'Arn' ? arn.sqsQueue(name) : attribute === 'QueueName' ? name : undefined;
      },
    },
    // Ref: the log group name. GetAtt Arn ends in ":*" (all of its streams).
    'AWS::Logs::LogGroup': {
      nameProperty: 'LogGroupName',
      answer: (name, attribute) =>
        attribute === undefined ? name : attribute === 'Arn' ? `${arn.logGroup(name)}:*` : undefined,
    },
    // Ref: the function name. GetAtt Arn.
    'AWS::Lambda::Function': {
      nameProperty: 'FunctionName',
      answer: (name, attribute) =>
        attribute === undefined ? name : attribute === 'Arn' ? arn.lambdaFunction(name) : undefined,
    },
    // Ref: the topic ARN. GetAtt TopicArn, TopicName.
    'AWS::SNS::Topic': {
      nameProperty: 'TopicName',
      answer: (name, attribute) =>
        attribute === 'TopicName'
          ? name
          : attribute === undefined || attribute === 'TopicArn'
            ? arn.snsTopic(name)
            : undefined,
    },
    // Ref: the user pool id. GetAtt Arn, ProviderName, ProviderURL; the pool id is what names it.
    'AWS::Cognito::UserPool': {
      nameProperty: 'UserPoolId',
      answer: (id, attribute) => {
        if (attribute === undefined) return id;
        if (attribute === 'Arn') return arn.userPool(id);
        if (attribute === 'ProviderName') return `cognito-idp.${scope.region}.amazonaws.com/${id}`;
        return attribute === 'ProviderURL'
          ? `https://cognito-idp.${scope.region}.amazonaws.com/${id}`
          : undefined;
      },
    },
    // Ref: the role name. GetAtt Arn (with the role's path).
    'AWS::IAM::Role': {
      nameProperty: 'RoleName',
      answer: (name, attribute, properties) =>
        attribute === undefined ? name : attribute === 'Arn' ? arn.role(name, path(properties)) : undefined,
    },
    // Ref: the policy ARN.
    'AWS::IAM::ManagedPolicy': {
      nameProperty: 'ManagedPolicyName',
      answer: (name, attribute, properties) =>
        attribute === undefined || attribute === 'PolicyArn'
          ? arn.managedPolicy(name, path(properties))
          : undefined,
    },
  };
}

/**
 * What `Ref` / `Fn::GetAtt` of a resource of `type` named `name` returns, as if its template
 * named it: the local platform's resolver answers with this for the resources it names itself.
 */
export function namedAnswer(
  scope: ArnScope,
  type: string,
  name: string,
  attribute: string | undefined,
): string | undefined {
  return answers(scope)[type]?.answer(name, attribute, {});
}

/**
 * The resolver for resources named in their template. A name that is itself an intrinsic is
 * left to the caller's resolver (it answers `undefined`).
 */
export function templateNamedResources(
  resourceOf: (stack: string, logicalId: string) => TemplateResource | undefined,
  scope: ArnScope,
): PhysicalResolver {
  const byType = answers(scope);
  return (ref: PhysicalRef) => {
    const known = byType[ref.type];
    const properties = resourceOf(ref.stack, ref.logicalId)?.Properties ?? {};
    const name = known ? properties[known.nameProperty] : undefined;
    return known && typeof name === 'string' ? known.answer(name, ref.attribute, properties) : undefined;
  };
}

/** The first resolver's answer, else the next one's. */
export function firstAnswer(...resolvers: readonly (PhysicalResolver | undefined)[]): PhysicalResolver {
  return (ref) => {
    for (const resolver of resolvers) {
      const answer = resolver?.(ref);
      if (answer !== undefined) return answer;
    }
    return undefined;
  };
}
