"""AWS's wire protocols for eltflow's local services, so unmodified boto3, the AWS CLI and
Lambda handler code reach them: ``boto3.client("stepfunctions", endpoint_url=URL)``,
``aws --endpoint-url URL dynamodb get-item ...``.

Served by ``eltflow serve`` on the console's port (AWS requests are told apart by the headers
the SDKs send, see :mod:`eltflow.endpoint.asgi`) or alone by ``eltflow endpoint``.

- :mod:`~eltflow.endpoint.table`: the routing table (X-Amz-Target prefix / SigV4 service → API);
- :mod:`~eltflow.endpoint.contract`: botocore's models as the contract (input checks, output
  shapes, error statuses);
- :mod:`~eltflow.endpoint.states`: Step Functions over the runtime's StatesService;
- :mod:`~eltflow.endpoint.query`, :mod:`~eltflow.endpoint.lambda_rest`: the query protocol
  (SNS) and Lambda's REST Invoke.

This package holds no service logic: it translates the wire to the services' own calls.
"""

from __future__ import annotations

from eltflow.endpoint.asgi import Endpoint, is_aws_request, with_endpoint

__all__ = ["Endpoint", "is_aws_request", "with_endpoint"]
