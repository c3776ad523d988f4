"""Page types of the Wagtail test bed: a rich-text page and a StreamField article, both tagged, both in the API."""

from django.db import models
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.api import APIField
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Page


class StandardPageTag(TaggedItemBase):
    content_object = ParentalKey("StandardPage", related_name="tagged_items", on_delete=models.CASCADE)


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey("ArticlePage", related_name="tagged_items", on_delete=models.CASCADE)


class StandardPage(Page):
    """A page with a plain intro and a RichTextField body."""

    intro = models.CharField(max_length=250, blank=True)
    body = RichTextField(blank=True)
    tags = ClusterTaggableManager(through=StandardPageTag, blank=True)

    api_fields = [APIField("intro"), APIField("body"), APIField("tags")]


class ArticlePage(Page):
    """A page whose body is a StreamField of headings, paragraphs, images and documents."""

    author = models.CharField(max_length=120, blank=True)
    body = StreamField(
        [
            ("heading", blocks.CharBlock()),
            ("paragraph", blocks.RichTextBlock()),
            ("image", ImageChooserBlock()),
            ("document", DocumentChooserBlock()),
        ],
        blank=True,
    )
    tags = ClusterTaggableManager(through=ArticlePageTag, blank=True)

    api_fields = [APIField("author"), APIField("body"), APIField("tags")]
