from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User

USERNAME_MAX = 150
SEARCH_MAX = 50


class SignUpForm(UserCreationForm):
    """Username, display name and the password twice, checked by AUTH_PASSWORD_VALIDATORS."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name")
        help_texts = {"display_name": "What your friends see. Leave empty to use your username."}


class UsernameForm(forms.Form):
    username = forms.CharField(max_length=USERNAME_MAX)


class PeopleSearchForm(forms.Form):
    q = forms.CharField(label="Find people", min_length=1, max_length=SEARCH_MAX)
