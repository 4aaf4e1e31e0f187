"""guests/movies as Django views: fifty computed movies, template responses."""

from django.http import Http404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

MOVIES = 50


def movie(id):
    return {
        "id": id,
        "title": f"Movie {id}",
        "year": 1950 + id,
        "votes": id * 37 % 100,
        "tagline": f"Episode {id} of love & <loss> in the city, told slowly",
    }


@require_safe
def movie_list(request):
    # Built per request, as the Shallot view builds its JSON per request.
    return TemplateResponse(request, "movies/list.html", {"movies": [movie(i) for i in range(1, MOVIES + 1)]})


@require_safe
def movie_detail(request, pk):
    if not 1 <= pk <= MOVIES:
        raise Http404("No movie matches the given query.")
    return TemplateResponse(request, "movies/detail.html", {"movie": movie(pk)})
