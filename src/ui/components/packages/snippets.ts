/**
 * "Set Me Up": the client configuration of a repository, as text. Pure functions (tested in
 * ui-helpers.test.ts); the component in setup-snippets.tsx finds the virtual repository to
 * resolve through and the token to insert.
 */

export interface RepoSummary {
  key: string;
  type: string;
  packageType: string;
  description?: string;
  url?: string;
}

export interface Snippet {
  title: string;
  file?: string;
  text: string;
  /** What the snippet does, in words (resolve from where, deploy to where). */
  note?: string;
}

export interface SnippetContext {
  /** A virtual repository that includes this one (for a local or remote repository). */
  resolve?: string;
  /** Where deploys go: the repository itself when local, a virtual one's default deployment repository. */
  deploy?: string;
  /** A generated access token; placeholders otherwise. */
  token?: string;
}

export const TOKEN_PLACEHOLDER = '<ACCESS_TOKEN>';
/** npm's `_auth` takes base64 of `user:password`; `_authToken` takes only a token. */
export const NPM_AUTH_PLACEHOLDER = '<BASE64 OF user:password>';

/** Where clients read from and deploy to, for a repository of each class. */
export function roles(repo: RepoSummary, ctx: SnippetContext = {}): { resolve?: string; deploy?: string; localOnly: boolean } {
  const cls = repo.type.toUpperCase();
  if (cls === 'VIRTUAL') return { resolve: repo.key, deploy: ctx.deploy, localOnly: false };
  if (cls === 'REMOTE') return { resolve: ctx.resolve ?? repo.key, deploy: undefined, localOnly: false };
  return { resolve: ctx.resolve, deploy: repo.key, localOnly: ctx.resolve === undefined };
}

function base64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

const unique = (xs: Array<string | undefined>): string[] => [...new Set(xs.filter((x): x is string => !!x))];

function mavenSnippets(base: string, user: string, secret: string, resolve: string | undefined, deploy: string | undefined, self: string): Snippet[] {
  const servers = unique([resolve, deploy, self])
    .map((k) => `    <server>\n      <id>${k}</id>\n      <username>${user}</username>\n      <password>${secret}</password>\n    </server>`)
    .join('\n');
  const out: Snippet[] = [];
  if (resolve) {
    out.push({
      title: 'Maven',
      file: '~/.m2/settings.xml',
      note: `Maven resolves everything (Maven Central included) through the virtual repository ${resolve}.`,
      text: `<settings>\n  <servers>\n${servers}\n  </servers>\n  <mirrors>\n    <mirror>\n      <id>${resolve}</id>\n      <mirrorOf>*</mirrorOf>\n      <url>${base}/${resolve}</url>\n    </mirror>\n  </mirrors>\n</settings>\n`,
    });
  } else {
    // A local repository holds only what was deployed to it: add it beside Central, never as a mirror of everything.
    const entry = (tag: string) => `        <${tag}>\n          <id>${self}</id>\n          <url>${base}/${self}</url>\n        </${tag}>`;
    out.push({
      title: 'Maven',
      file: '~/.m2/settings.xml',
      note: `${self} holds only what was deployed to it, so it is added beside Maven Central, not as a mirror of everything. Better: create a virtual Maven repository that includes ${self} and a remote for Central, and resolve through it.`,
      text: `<settings>\n  <servers>\n${servers}\n  </servers>\n  <profiles>\n    <profile>\n      <id>arca</id>\n      <repositories>\n${entry('repository')}\n      </repositories>\n      <pluginRepositories>\n${entry('pluginRepository')}\n      </pluginRepositories>\n    </profile>\n  </profiles>\n  <activeProfiles>\n    <activeProfile>arca</activeProfile>\n  </activeProfiles>\n</settings>\n`,
    });
  }
  if (deploy) {
    out.push({
      title: 'Deploy from Maven',
      file: 'pom.xml',
      note: `mvn deploy uploads to the local repository ${deploy}; the <id> matches the <server> in settings.xml.`,
      text: `<distributionManagement>\n  <repository>\n    <id>${deploy}</id>\n    <url>${base}/${deploy}</url>\n  </repository>\n  <snapshotRepository>\n    <id>${deploy}</id>\n    <url>${base}/${deploy}</url>\n  </snapshotRepository>\n</distributionManagement>\n`,
    });
  }
  return out;
}

function npmSnippets(base: string, hostPath: string, user: string, token: string | undefined, resolve: string | undefined, deploy: string | undefined): Snippet[] {
  const auth = (key: string) =>
    token ? `//${hostPath}/api/npm/${key}/:_authToken=${token}` : `//${hostPath}/api/npm/${key}/:_auth=${NPM_AUTH_PLACEHOLDER}`;
  const lines = [...(resolve ? [`registry=${base}/api/npm/${resolve}/`] : []), ...unique([resolve, deploy]).map(auth)];
  const note =
    (resolve ? `npm installs through the virtual repository ${resolve}.` : `No virtual npm repository includes this one: registry= is left alone, so installs keep using the public registry; create a virtual repository that includes it to install from both.`) +
    (token ? ' The token goes in _authToken.' : ` A password never goes in _authToken (npm answers E401): _auth takes base64 of user:password (echo -n '${user}:password' | base64), or generate a token for _authToken.`);
  const out: Snippet[] = [{ title: 'npm', file: '~/.npmrc', note, text: `${lines.join('\n')}\n` }];
  if (deploy) out.push({ title: 'npm publish', note: `Publishes to the local repository ${deploy}.`, text: `npm publish --registry=${base}/api/npm/${deploy}/\n` });
  return out;
}

/** The client configuration for `repo` at `base` (e.g. https://repo.example.com/artifactory). */
export function snippetsFor(repo: RepoSummary, base: string, user: string, ctx: SnippetContext = {}): Snippet[] {
  const url = new URL(base);
  const hostPath = `${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const type = repo.packageType.toLowerCase();
  const secret = ctx.token ?? TOKEN_PLACEHOLDER;
  const { resolve, deploy } = roles(repo, ctx);
  const creds = `${user}:${secret}`;
  const inUrl = (path: string) => `${url.protocol}//${encodeURIComponent(user)}:${secret}@${hostPath}${path}`;
  const out: Snippet[] = [];
  if (type === 'npm') out.push(...npmSnippets(base, hostPath, user, ctx.token, resolve, deploy));
  if (type === 'maven' || type === 'gradle') out.push(...mavenSnippets(base, user, secret, resolve, deploy, repo.key));
  if (type === 'pypi') {
    if (resolve) out.push({ title: 'pip', file: '~/.config/pip/pip.conf', note: `pip installs through the virtual repository ${resolve}.`, text: `[global]\nindex-url = ${inUrl(`/api/pypi/${resolve}/simple`)}\n` });
    else
      out.push({
        title: 'pip',
        file: '~/.config/pip/pip.conf',
        note: `${repo.key} holds only what was uploaded to it: it is an extra index beside PyPI. Better: a virtual PyPI repository that includes it.`,
        text: `[global]\nextra-index-url = ${inUrl(`/api/pypi/${repo.key}/simple`)}\n`,
      });
    if (deploy)
      out.push({
        title: 'twine',
        file: '~/.pypirc',
        note: `twine upload -r ${deploy} uploads to the local repository ${deploy}.`,
        text: `[distutils]\nindex-servers = ${deploy}\n\n[${deploy}]\nrepository = ${base}/api/pypi/${deploy}\nusername = ${user}\npassword = ${secret}\n`,
      });
  }
  if (type === 'docker' || type === 'oci') {
    const login = ctx.token ? `echo '${ctx.token}' | docker login ${url.host} -u ${user} --password-stdin` : `docker login ${url.host} -u ${user}   # password: an access token or your password`;
    const pull = resolve ?? repo.key;
    const push = deploy ? `docker tag my-image:1.0 ${url.host}/${deploy}/my-image:1.0\ndocker push ${url.host}/${deploy}/my-image:1.0\n` : '';
    out.push({ title: 'Docker', note: `Pull through ${pull}${deploy ? `, push to ${deploy}` : ''}.`, text: `${login}\n${push}docker pull ${url.host}/${pull}/my-image:1.0\n` });
  }
  if (type === 'go') {
    const proxy = resolve ? inUrl(`/api/go/${resolve}`) : `${inUrl(`/api/go/${repo.key}`)},https://proxy.golang.org,direct`;
    out.push({
      title: 'Go',
      note: resolve ? `go resolves every module through the virtual repository ${resolve}.` : `${repo.key} holds only its own modules: the public proxy stays after it.`,
      text: `${url.protocol === 'http:' ? '# go sends credentials over https only: over this http URL the repository must be readable anonymously\n' : ''}export GOPROXY="${proxy}"\n# Private modules are not in the public checksum database: leave them out of it\nexport GONOSUMDB="example.com/*"\ngo mod download\n`,
    });
  }
  if (type === 'cargo') {
    const names = unique([resolve, deploy]);
    out.push({
      title: 'Cargo',
      file: '~/.cargo/config.toml',
      note: `Crates come from crates.io unless a dependency names registry = "${resolve ?? deploy}"${deploy ? `; cargo publish goes to ${deploy}` : ''}.`,
      text: `${names.map((k) => `[registries.${k}]\nindex = "sparse+${base}/api/cargo/${k}/index/"\n`).join('\n')}\n[registry]\nglobal-credential-providers = ["cargo:token"]\n`,
    });
    out.push({ title: 'cargo login', text: `${names.map((k) => `cargo login --registry ${k} "Bearer ${secret}"`).join('\n')}\n${deploy ? `cargo publish --registry ${deploy}\n` : ''}` });
  }
  if (type === 'gems') {
    const from = resolve ?? repo.key;
    const source = `${base}/api/gems/${from}/`;
    out.push({ title: 'gem', note: `gem adds ${from} as a source beside rubygems.org.`, text: `gem sources -a ${inUrl(`/api/gems/${from}/`)}\ngem install my-gem\n` });
    if (deploy)
      out.push({
        title: 'gem push',
        file: '~/.gem/credentials',
        note: `gem push uploads to the local repository ${deploy}.`,
        text: `# curl -u ${creds} ${base}/api/gems/${deploy}/api/v1/api_key.yaml > ~/.gem/credentials; chmod 600 ~/.gem/credentials\n:rubygems_api_key: <API_KEY>\n\ngem push my-gem-1.0.0.gem --host ${base}/api/gems/${deploy}\n`,
      });
    out.push({
      title: 'Bundler',
      file: 'Gemfile',
      text: `${resolve ? `source "${source}"` : `source "https://rubygems.org"\n\nsource "${source}" do\n  gem "my-gem"\nend`}\n\n# bundle config set --global ${source} ${creds}\n`,
    });
  }
  if (type === 'helm') {
    const from = resolve ?? repo.key;
    out.push({ title: 'Helm', note: `Charts are read from ${from}.`, text: `echo '${secret}' | helm repo add ${from} ${base}/api/helm/${from} --username ${user} --password-stdin\nhelm repo update\nhelm install my-release ${from}/my-chart\n` });
    if (deploy) out.push({ title: 'Deploy a chart', note: `Uploads to the local repository ${deploy}.`, text: `curl -u ${creds} -T my-chart-0.1.0.tgz "${base}/api/helm/${deploy}/my-chart-0.1.0.tgz"\n` });
  }
  if (type === 'debian') {
    const from = resolve ?? repo.key;
    const key = `/etc/apt/keyrings/${from}.asc`;
    out.push({
      title: 'apt',
      file: `/etc/apt/sources.list.d/${from}.list`,
      text:
        `# curl -fsSL -o ${key} ${base}/api/security/keypair/public/repositories/${from}\n` +
        `deb [signed-by=${key}] ${base}/api/deb/${from} bookworm main\n\n` +
        `# /etc/apt/auth.conf.d/${from}.conf (when the repository is not readable anonymously):\n` +
        `# machine ${hostPath}/api/deb/${from} login ${user} password ${secret}\n`,
    });
    if (deploy)
      out.push({
        title: 'Deploy a package',
        text: `curl -u ${creds} -T my-package_1.0-1_amd64.deb \\\n  "${base}/${deploy}/pool/main/m/my-package/my-package_1.0-1_amd64.deb;deb.distribution=bookworm;deb.component=main;deb.architecture=amd64"\n`,
      });
  }
  if (type === 'rpm' || type === 'yum') {
    const from = resolve ?? repo.key;
    out.push({
      title: 'dnf / yum',
      file: `/etc/yum.repos.d/${from}.repo`,
      text:
        `[${from}]\nname=${from}\nbaseurl=${base}/${from}\nenabled=1\n# gpgcheck=1 when the packages themselves are signed (Arca signs the metadata)\ngpgcheck=0\nrepo_gpgcheck=1\n` +
        `gpgkey=${base}/api/security/keypair/public/repositories/${from}\n` +
        `# when the repository is not readable anonymously:\nusername=${user}\npassword=${secret}\n`,
    });
    if (deploy) out.push({ title: 'Deploy a package', text: `curl -u ${creds} -T my-package-1.0-1.x86_64.rpm "${base}/${deploy}/Packages/my-package-1.0-1.x86_64.rpm"\n` });
  }
  const deployable = repo.type.toUpperCase() !== 'REMOTE';
  out.push({
    title: 'curl',
    text: (deployable ? `curl -u ${creds} -T my-file.bin "${base}/${repo.key}/path/to/my-file.bin"\n` : '') + `curl -u ${creds} -O "${base}/${repo.key}/path/to/my-file.bin"\n`,
  });
  return out;
}

/** The `_auth` value npm wants for a password (exported for the page's explanation and tests). */
export const npmAuth = (user: string, password: string): string => base64(`${user}:${password}`);
