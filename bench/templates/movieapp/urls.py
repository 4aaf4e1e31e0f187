from django.urls import include, path

from . import views

# Shallot's [[routes]]: path "movies/", namespace "movies", names list and detail.
movies = (
    [
        path("", views.movie_list, name="list"),
        path("<int:pk>/", views.movie_detail, name="detail"),
    ],
    "movies",  # app_name, so the namespace is "movies"
)

urlpatterns = [path("movies/", include(movies))]
