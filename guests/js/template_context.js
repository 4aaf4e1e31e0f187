// A theming middleware in JavaScript, Django's process_template_response:
// puts themed/<name> ahead of each candidate template, so a themed copy
// wins where there is one, adds `layer` to the context (changed in place)
// and names the candidates it saw in X-Templates.

export default class TemplateContext {
  processTemplateResponse(request, response) {
    const name = response.templateName;
    const names = typeof name === 'string' ? [name] : name;
    response.set('X-Templates', names.join(', '));
    response.templateName = [...names.map((n) => `themed/${n}`), ...names];
    response.contextData.layer = 'javascript';
    return response;
  }
}
