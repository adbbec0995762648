import * as iam from 'aws-cdk-lib/aws-iam';

/** Who may assume a role people use (the auditor's, the reviewer's). */
export interface HumanRoleTrust {
  /**
   * Principals allowed to assume the role (IAM user, role or account ARNs).
   * @default - this account: any of its principals whose own policy allows sts:AssumeRole on the role
   */
  readonly trustedPrincipalArns?: readonly string[];
  /**
   * Require MFA when assuming the role (`aws:MultiFactorAuthPresent`). Off by default because
   * sessions federated through IAM Identity Center do not carry that key and would be refused.
   * @default false
   */
  readonly requireMfa?: boolean;
}

/** The `assumedBy` principal for a human role: the listed principals (or the account), MFA if asked. */
export function humanRolePrincipal(trust: HumanRoleTrust): iam.IPrincipal {
  const principals = (trust.trustedPrincipalArns ?? []).map((arn) => new iam.ArnPrincipal(arn));
  const trusted: iam.IPrincipal =
    principals.length === 0
      ? new iam.AccountRootPrincipal()
      : principals.length === 1 && principals[0]
        ? principals[0]
        : new iam.CompositePrincipal(...principals);
  return trust.requireMfa
    ? new iam.PrincipalWithConditions(trusted, { Bool: { 'aws:MultiFactorAuthPresent': 'true' } })
    : trusted;
}
