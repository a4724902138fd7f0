"""One step of execution semantics, as a pure function. See :mod:`eltflow.interpreter.protocol`."""
