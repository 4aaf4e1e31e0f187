from django.urls import path

from . import views

urlpatterns = [
    path("notes/<int:id>/", views.note),
    path("notes/", views.page),
]
