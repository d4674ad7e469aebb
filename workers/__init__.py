"""The RQ side of Carebook: queues, jobs and the worker entry point (`python -m workers`)."""
