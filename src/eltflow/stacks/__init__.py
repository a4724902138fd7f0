"""CloudFormation stacks run locally: a template's parameters, conditions and intrinsic functions
evaluated (pure modules), its resources created through the local services' own APIs, and the
stack recorded in the state store.

Modules: ``template`` (load YAML/JSON), ``parameters``, ``intrinsics`` (pure evaluator),
``conditions``, ``graph`` (dependency order), ``providers`` (one per resource family),
``records`` (the store), ``deploy`` (create/update/delete with rollback), ``describe``.
"""
