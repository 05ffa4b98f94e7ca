from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import User
from config.errors import TooManyRequests
from rooms.addresses import UNKNOWN, client_address

USERNAME_MAX = 150
SEARCH_MAX = 50


class SignUpForm(UserCreationForm):
    """Username, display name and the password twice, checked by AUTH_PASSWORD_VALIDATORS."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name")
        help_texts = {"display_name": _("What your friends see. Leave empty to use your username.")}


class LoginForm(AuthenticationForm):
    """Django's log-in form, with the password checked under the same limits as the token
    endpoint (services.user_authenticate). `retry_after` is set when a limit refused it."""

    retry_after = 0

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.user_authenticate(
                    username=username,
                    password=password,
                    address=UNKNOWN if self.request is None else client_address(self.request),
                    request=self.request,
                )
            except TooManyRequests as error:
                self.retry_after = error.retry_after
                raise forms.ValidationError(error.message, code=error.code) from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class UsernameForm(forms.Form):
    username = forms.CharField(max_length=USERNAME_MAX)


class PeopleSearchForm(forms.Form):
    q = forms.CharField(label=_("Find people"), min_length=1, max_length=SEARCH_MAX)
