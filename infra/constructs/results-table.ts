import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { RESULTS_TABLE } from '../../lib/adapters/dynamodb/results-table-design.ts';

export interface ResultsTableProps {
  /** Customer-managed key that encrypts the table. */
  readonly encryptionKey: kms.IKey;
  /**
   * What happens to the table when the stack is deleted: verdict history is audit evidence.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The single DynamoDB table (verdicts, attempts, chain heads, risk state, reminder ledger) with the
 * key design of `lib/adapters/dynamodb/results-table-design.ts`: on-demand, PITR, CMK, deletion protection.
 */
export class ResultsTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ResultsTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: RESULTS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: RESULTS_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: RESULTS_TABLE.ttlAttribute,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: RESULTS_TABLE.periodIndex.name,
      partitionKey: { name: RESULTS_TABLE.periodIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: RESULTS_TABLE.periodIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
