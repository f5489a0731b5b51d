"""Lifetime value and churn: the buy-till-you-die family of models, spend models and CLV."""

__all__: list[str] = []
