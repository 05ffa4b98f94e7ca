"""The usage dashboard in the moderation console (staff only): one of the Room admin's URLs
(`admin:rooms_usage`, `<admin>/rooms/room/usage/`), linked from the rooms' changelist.

The chart is inline SVG drawn on the server: no JavaScript, no library, nothing from a CDN.
In a right-to-left language it is mirrored: the scale on the right, days running leftwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.translation import gettext

from rooms.usage import usage_summary

CHART_WIDTH = 720
CHART_HEIGHT = 200
CHART_LEFT = 48  # room for the axis labels
CHART_BOTTOM = 24


@dataclass(frozen=True, slots=True)
class Bar:
    day: date
    minutes: int
    x: float
    y: float
    width: float
    height: float

    @property
    def label_x(self) -> float:
        """Where the day's label is centred."""
        return round(self.x + self.width / 2, 1)


def bars(minutes_by_day: dict[date, float], *, rtl: bool = False) -> tuple[list[Bar], int]:
    """Bar geometry for the chart, and the value at the top of its scale. `rtl` mirrors it:
    the plot then spans 0 to CHART_WIDTH - CHART_LEFT, the first day on the right."""
    top = max([1, *(round(m) for m in minutes_by_day.values())])
    plot_width = CHART_WIDTH - CHART_LEFT
    plot_height = CHART_HEIGHT - CHART_BOTTOM
    slot = plot_width / max(len(minutes_by_day), 1)
    result = []
    for index, (day, minutes) in enumerate(sorted(minutes_by_day.items())):
        height = plot_height * minutes / top
        x = CHART_LEFT + index * slot + slot * 0.1
        if rtl:
            x = CHART_WIDTH - x - slot * 0.8
        result.append(
            Bar(
                day=day,
                minutes=round(minutes),
                x=round(x, 1),
                y=round(plot_height - height, 1),
                width=round(slot * 0.8, 1),
                height=round(height, 1),
            )
        )
    return result, top


def usage(request: HttpRequest, admin_site: admin.AdminSite) -> HttpResponse:
    summary = usage_summary(now=timezone.now())
    rtl = translation.get_language_bidi()
    chart, top = bars(summary.minutes_by_day, rtl=rtl)
    axis = CHART_WIDTH - CHART_LEFT if rtl else CHART_LEFT
    context = {
        **admin_site.each_context(request),
        "title": gettext("Usage"),
        "summary": summary,
        "total_minutes": round(sum(summary.minutes_by_day.values())),
        "bars": chart,
        "top": top,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot_bottom": CHART_HEIGHT - CHART_BOTTOM,
        # The scale's axis, the baseline's far end, and where the scale's numbers sit.
        "axis": axis,
        "baseline_end": 0 if rtl else CHART_WIDTH,
        "scale_x": axis + 4 if rtl else axis - 4,
        "scale_anchor": "start" if rtl else "end",
        # The days' names are words of the language: laid out in its direction.
        "text_direction": "rtl" if rtl else "ltr",
    }
    # The template's {% url 'admin:...' %} then resolves in this admin site.
    request.current_app = admin_site.name
    return TemplateResponse(request, "rooms/admin/usage.html", context)
