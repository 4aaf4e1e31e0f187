"""A theming middleware in Python, Django's ``process_template_response``:
puts ``themed/<name>`` ahead of each candidate template, so a themed copy
wins where there is one, adds ``layer`` to the context (changed in place)
and names the candidates it saw in ``X-Templates``."""

from shallot import Middleware


class TemplateContext(Middleware):
    def process_template_response(self, request, response):
        names = response.template_name
        names = [names] if isinstance(names, str) else names
        response["X-Templates"] = ", ".join(names)
        response.template_name = [f"themed/{n}" for n in names] + names
        response.context_data["layer"] = "python"
        return response
