#!/bin/sh
# Fetch the pinned GraphiQL and React packages from the npm registry and check (default) or
# refresh (--update) the copies served by the service: src/entrypoints/http/graphiql/.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/src/entrypoints/http/graphiql"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent graphiql@3.8.3 react@18.3.1 react-dom@18.3.1 >/dev/null
for package in graphiql-3.8.3 react-18.3.1 react-dom-18.3.1; do
  mkdir "$package" && tar -xzf "$package.tgz" -C "$package"
done
cp graphiql-3.8.3/package/graphiql.min.js graphiql-3.8.3/package/graphiql.min.css .
cp react-18.3.1/package/umd/react.production.min.js react-dom-18.3.1/package/umd/react-dom.production.min.js .
cp graphiql-3.8.3/package/LICENSE LICENSE.graphiql
cp react-18.3.1/package/LICENSE LICENSE.react
cp react-dom-18.3.1/package/LICENSE LICENSE.react-dom
files="graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js LICENSE.graphiql LICENSE.react LICENSE.react-dom"
if [ "${1:-}" = "--update" ]; then
  for file in $files; do cp "$file" "$dest/$file"; done
  echo "updated $dest; put the new sha256 sums in SOURCES.txt:"
  (cd "$dest" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js)
else
  for file in $files; do cmp -s "$file" "$dest/$file" || { echo "differs from the npm package: $file"; exit 1; }; done
  echo "the served GraphiQL files are the npm packages' own"
fi
