"""The public signing page's templates, script and style (kept in code so every install has them).

Server-rendered with Jinja (autoescaped). The one script is served from ``/sign/assets/sign.js``,
so the page's CSP needs no inline script. It works on a phone: one column, a canvas that takes
touch and pen (pointer events), big buttons.
"""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

_BASE = """<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{% block title %}Firma de documento{% endblock %}</title>
<link rel="stylesheet" href="/sign/assets/sign.css">
</head>
<body>
<main>
{% block body %}{% endblock %}
</main>
</body>
</html>
"""

_SIGN = """{% extends "base.html" %}
{% block body %}
<h1>Firma de documento</h1>
<p>Hola {{ page.recipient_name }}, se le solicita revisar y firmar <strong>{{ page.document_name }}</strong>.</p>
{% if page.message %}<blockquote>{{ page.message }}</blockquote>{% endif %}
{% if error %}<p class="error" role="alert" id="error">{{ error }}</p>{% endif %}
<section class="document">
  <iframe src="{{ base }}/document" title="{{ page.document_name }}"></iframe>
  <p><a href="{{ base }}/document?download=1" id="download">Descargar el documento (PDF)</a></p>
</section>
<form method="post" action="{{ base }}" id="sign-form">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <input type="hidden" name="action" value="sign">
  <input type="hidden" name="signature" id="signature-data" value="">
  <h2>Su firma</h2>
  <p>Dibuje su firma en el recuadro, o escriba su nombre completo.</p>
  <canvas id="pad" width="600" height="200" aria-label="Recuadro para dibujar la firma"></canvas>
  <p><button type="button" id="clear" class="secondary">Borrar</button></p>
  <label for="typed-name">O escriba su nombre</label>
  <input type="text" name="typed_name" id="typed-name" maxlength="200" autocomplete="name">
  <label class="consent"><input type="checkbox" name="consent" value="yes" id="consent" required>
    Acepto firmar este documento electrónicamente y que mi firma, la fecha, mi dirección IP y mi
    navegador queden registrados.</label>
  <button type="submit" id="sign">Firmar</button>
</form>
<details>
  <summary>Rechazar el documento</summary>
  <form method="post" action="{{ base }}" id="decline-form">
    <input type="hidden" name="csrf" value="{{ csrf }}">
    <input type="hidden" name="action" value="decline">
    <label for="reason">Motivo</label>
    <textarea name="reason" id="reason" maxlength="500" required></textarea>
    <button type="submit" class="secondary" id="decline">Rechazar</button>
  </form>
</details>
<p class="small">El enlace vence el {{ page.expires_at.strftime("%d/%m/%Y %H:%M") }} UTC y sirve una sola vez.</p>
<script src="/sign/assets/sign.js"></script>
{% endblock %}
"""

_STATE = """{% extends "base.html" %}
{% block body %}
<h1 id="state" data-state="{{ state }}">{{ title }}</h1>
<p>{{ text }}</p>
{% endblock %}
"""

STATES = {
    "SIGNED": ("Documento firmado", "Gracias. Su firma quedó registrada; recibirá el documento sellado de quien se lo envió."),
    "DECLINED": ("Documento rechazado", "Su rechazo y el motivo quedaron registrados."),
    "CANCELLED": ("Solicitud cancelada", "Quien le envió este enlace canceló la solicitud de firma."),
    "EXPIRED": ("Enlace vencido", "Este enlace de firma venció. Pida uno nuevo a quien se lo envió."),
    "UNKNOWN": ("Enlace no válido", "Este enlace de firma no es válido. Revise que esté completo."),
    "LIMITED": ("Demasiados intentos", "Se hicieron demasiados intentos con enlaces no válidos. Intente más tarde."),
}

SCRIPT = """(function () {
  var pad = document.getElementById('pad');
  if (!pad) { return; }
  var ctx = pad.getContext('2d');
  var drawn = false, down = false;
  ctx.lineWidth = 3; ctx.lineCap = 'round'; ctx.strokeStyle = '#102a6b';
  function point(e) {
    var r = pad.getBoundingClientRect();
    return { x: (e.clientX - r.left) * pad.width / r.width, y: (e.clientY - r.top) * pad.height / r.height };
  }
  pad.addEventListener('pointerdown', function (e) {
    down = true; pad.setPointerCapture(e.pointerId);
    var p = point(e); ctx.beginPath(); ctx.moveTo(p.x, p.y); e.preventDefault();
  });
  pad.addEventListener('pointermove', function (e) {
    if (!down) { return; }
    var p = point(e); ctx.lineTo(p.x, p.y); ctx.stroke(); drawn = true; e.preventDefault();
  });
  function up(e) {
    down = false;
    if (pad.hasPointerCapture(e.pointerId)) { pad.releasePointerCapture(e.pointerId); }
  }
  pad.addEventListener('pointerup', up);
  pad.addEventListener('pointercancel', up);
  document.getElementById('clear').addEventListener('click', function () {
    ctx.clearRect(0, 0, pad.width, pad.height); drawn = false;
  });
  document.getElementById('sign-form').addEventListener('submit', function () {
    document.getElementById('signature-data').value = drawn ? pad.toDataURL('image/png') : '';
  });
})();
"""

STYLE = """body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1b1f24; }
main { max-width: 720px; margin: 0 auto; padding: 16px; background: #fff; min-height: 100vh; box-sizing: border-box; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; }
iframe { width: 100%; height: 60vh; border: 1px solid #ccd; }
canvas { width: 100%; height: auto; max-height: 220px; border: 1px dashed #667; touch-action: none; background: #fff; }
label { display: block; margin: 12px 0 4px; }
input[type=text], textarea { width: 100%; box-sizing: border-box; padding: 10px; font-size: 1rem; }
button { margin-top: 12px; padding: 12px 20px; font-size: 1rem; border: 0; border-radius: 6px; background: #1d4ed8; color: #fff; }
button.secondary { background: #e5e7eb; color: #111; }
.consent input { margin-right: 8px; }
.error { color: #b91c1c; font-weight: 600; }
.small { font-size: .85rem; color: #555; }
blockquote { border-left: 3px solid #ccd; margin: 8px 0; padding: 4px 12px; color: #333; }
"""

ENVIRONMENT = Environment(
    loader=DictLoader({"base.html": _BASE, "sign.html": _SIGN, "state.html": _STATE}),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def render_sign(**context: object) -> str:
    return ENVIRONMENT.get_template("sign.html").render(**context)


def render_state(state: str) -> str:
    title, text = STATES.get(state, STATES["UNKNOWN"])
    return ENVIRONMENT.get_template("state.html").render(state=state, title=title, text=text)
