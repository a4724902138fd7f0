"""Local S3: buckets are folders under the project (``.eltflow/s3/<bucket>/<key>``), served by
one :class:`~eltflow.s3.service.S3Service` (the endpoint's S3 REST protocol, the
``aws-sdk:s3:*`` integrations and CloudFormation buckets all go through it)."""
