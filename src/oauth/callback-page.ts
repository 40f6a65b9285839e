/** Escapes text for HTML element content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

export interface CallbackPageContent {
  success: boolean;
  title: string;
  message: string;
  advice?: string | null;
}

/**
 * The small page the admin's browser lands on after consent (SPEC §6). Everything in it is
 * escaped; it links nowhere and redirects nowhere, so nothing from the request can steer it.
 */
export function renderCallbackPage(content: CallbackPageContent): string {
  const colour = content.success ? '#1b7f3b' : '#b42318';
  const advice = content.advice ? `<p class="advice">${escapeHtml(content.advice)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(content.title)} - Outlink</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #1d2939; }
h1 { font-size: 1.4rem; color: ${colour}; }
.advice { background: #fffaeb; border-left: 4px solid #f79009; padding: 0.75rem 1rem; }
</style>
</head>
<body>
<h1 data-outcome="${content.success ? 'connected' : 'failed'}">${escapeHtml(content.title)}</h1>
<p>${escapeHtml(content.message)}</p>
${advice}
</body>
</html>
`;
}
