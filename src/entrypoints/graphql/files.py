"""GraphQL of the files domain: the File type, its queries and its mutations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.files.commands import (
    AddFile,
    CreateFile,
    DeclaredUpload,
    DeleteFile,
    FindFiles,
    FindFilesByName,
    GetFile,
    LinkFile,
    PrepareDirectUploads,
    SearchFiles,
    SignFiles,
    SignFileUrls,
)
from application.files.staging import StagedBlob
from application.files.views import EntityRef, FileCursor, FileFilter, FileView
from application.intake.commands import IngestFile
from application.shared.bus import MessageBus
from domain.files.model import EntityType, parse_entity_id
from domain.intake.model import DocumentKind
from domain.shared.errors import DomainError, InvalidInput
from domain.tenancy.model import Actor
from entrypoints.graphql.common import actor, bus, business_result, then
from entrypoints.graphql.api import ApiDomain
from entrypoints.graphql.loaders import keyed
from application.files.commands import FindFilesByEntities, GetFileLinks

query = QueryType()
mutation = MutationType()
file_type = ObjectType("File")
file_entity_type = ObjectType("FileEntity")
temp_file_url_type = ObjectType("TempFileUrl")

bindables = [query, mutation, file_type, file_entity_type, temp_file_url_type]



def _upload(value: Any) -> StagedBlob:
    if not isinstance(value, StagedBlob):
        raise InvalidInput("file must be a file part of a multipart request", field="file")
    return value


def _entity(entity: dict[str, Any] | None) -> dict[str, Any]:
    if not entity:
        return {}
    return {"entity_type": entity.get("entity_type"), "entity_id": entity.get("entity_id")}


# --- File ---------------------------------------------------------------------------------


@file_type.field("entities")
def resolve_entities(file: FileView, info: GraphQLResolveInfo) -> Any:
    return info.context["loaders"].links_by_file.load(file.id)


@file_type.field("signedUrl")
def resolve_signed_url(
    file: FileView, info: GraphQLResolveInfo, expires_in: int | None = None, inline: bool = False
) -> Any:
    return info.context["loaders"].signed_urls.load((file, expires_in, bool(inline)))


@file_entity_type.field("entityType")
def resolve_entity_type(link: Any, _info: GraphQLResolveInfo) -> str:
    return str(link.entity_type)


@temp_file_url_type.field("headers")
def resolve_headers(upload: Any, _info: GraphQLResolveInfo) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in upload.headers.items()]


def signed_urls(messages: MessageBus, who: Actor, keys: Sequence[tuple[FileView, int | None, bool]]) -> list[Any]:
    """The ``signed_urls`` loader's batch. Keys are (file, expires in, inline): signing needs no
    query, one bus call per option pair."""
    groups: dict[tuple[int | None, bool], list[FileView]] = defaultdict(list)
    for view, expires_in, inline in keys:
        groups[(expires_in, inline)].append(view)
    urls: dict[tuple[str, int | None, bool], Any] = {}
    for (expires_in, inline), views in groups.items():
        signed = messages.handle(SignFiles(actor=who, files=tuple(views), expires_in=expires_in, inline=inline))
        for url in signed:
            urls[(url.file_id, expires_in, inline)] = url.url
    return [urls[(view.id, expires_in, inline)] for view, expires_in, inline in keys]


# --- queries ------------------------------------------------------------------------------


@query.field("entityTypes")
def resolve_entity_types(*_: Any) -> list[str]:
    return [entity_type.value for entity_type in EntityType]


@query.field("getFileById")
@business_result(file=None)
def resolve_get_file_by_id(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"file": bus(info).handle(GetFile(actor=actor(info), file_id=id))}


@query.field("findFiles")
@business_result(edges=[], page_info={"end_cursor": None, "has_next_page": False})
def resolve_find_files(
    _: Any,
    info: GraphQLResolveInfo,
    filter: dict[str, Any] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    filter = filter or {}
    entity_type = filter.get("entity_type")
    page = bus(info).handle(
        FindFiles(
            actor=actor(info),
            filter=FileFilter(
                name_contains=filter.get("name_contains"),
                mime=filter.get("mime"),
                entity_type=EntityType.parse(entity_type, field="filter.entityType") if entity_type else None,
                created_from=filter.get("created_from"),
                created_to=filter.get("created_to"),
            ),
            first=first,
            after=after,
        )
    )
    return {
        "edges": [{"cursor": FileCursor.of(item).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


@query.field("getFileBySearch")
@business_result(files=[])
def resolve_get_file_by_search(
    _: Any, info: GraphQLResolveInfo, search: str, first: int | None = None
) -> dict[str, Any]:
    return {"files": bus(info).handle(SearchFiles(actor=actor(info), text=search, first=first))}


@query.field("findByFileName")
@business_result(files=[])
def resolve_find_by_file_name(_: Any, info: GraphQLResolveInfo, name: str) -> dict[str, Any]:
    return {"files": bus(info).handle(FindFilesByName(actor=actor(info), name=name))}


@query.field("findFilesByEntity")
@business_result(files=[])
def resolve_find_files_by_entity(
    _: Any, info: GraphQLResolveInfo, entity_type: str, entity_id: str
) -> Any:
    ref = EntityRef(EntityType.parse(entity_type), parse_entity_id(entity_id))
    return then(info.context["loaders"].files_by_entity.load(ref), lambda files: {"files": files})


# --- mutations ----------------------------------------------------------------------------


@mutation.field("addFile")
@business_result(file=None)
def resolve_add_file(
    _: Any,
    info: GraphQLResolveInfo,
    file: Any,
    name: str | None = None,
    entity: dict[str, Any] | None = None,
    ingest: bool = False,
    kind: str | None = None,
) -> dict[str, Any]:
    if ingest:
        DocumentKind.parse(kind)  # refused before anything is stored
    content = _upload(file)
    command = AddFile(actor=actor(info), content=content, name=name or content_name(info, content), **_entity(entity))
    added = bus(info).handle(command)
    if not ingest:
        return {"file": added}
    return {"file": added, "intake": bus(info).handle(IngestFile(actor=actor(info), file_id=added.id, kind=kind))}


@mutation.field("uploadTmpFile")
@business_result(file=None)
def resolve_upload_tmp_file(
    _: Any, info: GraphQLResolveInfo, file: Any, name: str | None = None
) -> dict[str, Any]:
    content = _upload(file)
    command = AddFile(
        actor=actor(info), content=content, name=name or content_name(info, content), temporary=True
    )
    return {"file": bus(info).handle(command)}


@mutation.field("addFileEntity")
@business_result(file_entity=None)
def resolve_add_file_entity(
    _: Any, info: GraphQLResolveInfo, file_id: str, entity_type: str, entity_id: str
) -> dict[str, Any]:
    link = bus(info).handle(
        LinkFile(actor=actor(info), file_id=file_id, entity_type=entity_type, entity_id=entity_id)
    )
    return {"file_entity": link}


@mutation.field("generateSignedUrl")
@business_result(signed_url=None)
def resolve_generate_signed_url(
    _: Any, info: GraphQLResolveInfo, file_id: str, expires_in: int | None = None, inline: bool = False
) -> dict[str, Any]:
    try:
        urls = bus(info).handle(
            SignFileUrls(actor=actor(info), file_ids=(file_id,), expires_in=expires_in, inline=bool(inline))
        )
    except DomainError as error:
        if error.field == "fileIds":
            error.field = "fileId"
        raise
    return {"signed_url": urls[0]}


@mutation.field("generateFileUrls")
@business_result(signed_urls=[])
def resolve_generate_file_urls(
    _: Any, info: GraphQLResolveInfo, file_ids: list[str], expires_in: int | None = None
) -> dict[str, Any]:
    urls = bus(info).handle(
        SignFileUrls(actor=actor(info), file_ids=tuple(file_ids), expires_in=expires_in)
    )
    return {"signed_urls": urls}


@mutation.field("deleteFile")
@business_result(deleted_id=None)
def resolve_delete_file(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"deleted_id": bus(info).handle(DeleteFile(actor=actor(info), file_id=id))}


@mutation.field("generateTempFileUrls")
@business_result(uploads=[])
def resolve_generate_temp_file_urls(
    _: Any, info: GraphQLResolveInfo, files: list[dict[str, Any]]
) -> dict[str, Any]:
    declared = []
    for index, item in enumerate(files):
        size = item["size"]
        if size != int(size):
            raise InvalidInput("size must be a whole number of bytes", field=f"files[{index}].size")
        declared.append(
            DeclaredUpload(name=item["name"], size=int(size), mime=item["mime"], sha256=item["sha256"])
        )
    views = bus(info).handle(PrepareDirectUploads(actor=actor(info), uploads=tuple(declared)))
    return {"uploads": views}


@mutation.field("createFile")
@business_result(file=None)
def resolve_create_file(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    command = CreateFile(
        actor=actor(info), sha256=input["sha256"], name=input.get("name"), **_entity(input.get("entity"))
    )
    return {"file": bus(info).handle(command)}


def content_name(info: GraphQLResolveInfo, content: StagedBlob) -> str | None:
    """The file name the client gave its multipart part."""
    return info.context.get("upload_names", {}).get(content.ref)


API = ApiDomain(
    bindables,
    sdl=("files.graphql",),
    loaders={
        "files_by_entity": keyed(FindFilesByEntities, "refs"),
        "links_by_file": keyed(GetFileLinks, "file_ids"),
        "signed_urls": signed_urls,
    },
)
