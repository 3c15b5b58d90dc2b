"""The endpoint form: events as checkboxes, the secret typed in and never shown back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import Endpoint, EventType

#: A secret shorter than this is refused: it is all that tells a receiver the request is ours.
MIN_SECRET_LENGTH = 16


class EndpointForm(forms.ModelForm):
    # A receiver typed without a scheme is an HTTPS one: events must not travel in clear text.
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("events"),
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Events this endpoint receives; none selected means all of them."),
    )
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least %(count)d characters, shared with the receiver. Stored encrypted and never shown "
            "back: leave empty to keep the current one."
        )
        % {"count": MIN_SECRET_LENGTH},
    )

    class Meta:
        model = Endpoint
        fields = ("name", "url", "secret", "event_types", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["secret"] = ""

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data.get("secret") or ""
        if not secret:
            if self.instance.pk and self.instance.secret:
                return str(self.instance.secret)
            raise forms.ValidationError(_("Type the signing secret."))
        if len(secret) < MIN_SECRET_LENGTH:
            raise forms.ValidationError(
                _("Use at least %(count)d characters.") % {"count": MIN_SECRET_LENGTH}
            )
        return secret
