// An ECR registry host (<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]) and an ARN
// (arn:<partition>:<service>:<region>:<account>:<resource>) are where an AWS account ID shows in what the toolkit
// logs. S3 and other ARNs without an account (arn:aws:s3:::bucket) have an empty field and name none.
const registryHost = /\b(\d{12})\.dkr\.ecr(?:-fips)?\./g;
const arn = /\barn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/g;

/** The AWS account IDs that the registry hosts and ARNs in `texts` name, each once. */
export function accountIdsIn(...texts: (string | undefined)[]): string[] {
  const found = new Set<string>();
  for (const text of texts) {
    if (!text) continue;
    for (const pattern of [registryHost, arn]) for (const match of text.matchAll(pattern)) found.add(match[1]!);
  }
  return [...found];
}
