def site(request):
    """guests/site-context with config site = "Shallot Cinema"."""
    return {"site": "Shallot Cinema", "user": getattr(request, "user", None) or "anonymous"}
