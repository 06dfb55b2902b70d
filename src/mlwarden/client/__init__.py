"""mlwarden.client: the SDK a serving process uses to send predictions and labels to an mlwarden server.

```python
from mlwarden.client import Warden

with Warden("http://mlwarden:8000", token="…") as warden:
    warden.log("churn", features, prediction=y_pred, score=p, id=request_ids)
    warden.log_labels("churn", ids, labels)
```
See docs/client.md for the delivery guarantees.
"""

from mlwarden.client.warden import Stats, Warden

__all__ = ["Stats", "Warden"]
