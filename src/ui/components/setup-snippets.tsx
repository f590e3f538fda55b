import { useState } from 'react';
import { useBaseUrl } from './base-url';

export interface RepoSummary {
  key: string;
  type: string;
  packageType: string;
  description?: string;
  url?: string;
}

interface Snippet {
  title: string;
  file?: string;
  text: string;
}

const TOKEN = '<ACCESS_TOKEN>';

/** The client configuration for `repo` at `base` (e.g. https://repo.example.com/artifactory). */
export function snippetsFor(repo: RepoSummary, base: string, user: string): Snippet[] {
  const url = new URL(base);
  const hostPath = `${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const type = repo.packageType.toLowerCase();
  const out: Snippet[] = [];
  if (type === 'npm') {
    const registry = `${base}/api/npm/${repo.key}/`;
    out.push({
      title: 'npm',
      file: '~/.npmrc',
      text: `registry=${registry}\n//${hostPath}/api/npm/${repo.key}/:_authToken=${TOKEN}\n`,
    });
    out.push({ title: 'npm login', text: `npm login --registry=${registry}\nnpm publish --registry=${registry}\n` });
  }
  if (type === 'maven' || type === 'gradle') {
    out.push({
      title: 'Maven',
      file: '~/.m2/settings.xml',
      text: `<settings>
  <servers>
    <server>
      <id>${repo.key}</id>
      <username>${user}</username>
      <password>${TOKEN}</password>
    </server>
  </servers>
  <mirrors>
    <mirror>
      <id>${repo.key}</id>
      <mirrorOf>*</mirrorOf>
      <url>${base}/${repo.key}</url>
    </mirror>
  </mirrors>
</settings>
`,
    });
    out.push({
      title: 'Deploy from Maven',
      file: 'pom.xml',
      text: `<distributionManagement>
  <repository>
    <id>${repo.key}</id>
    <url>${base}/${repo.key}</url>
  </repository>
  <snapshotRepository>
    <id>${repo.key}</id>
    <url>${base}/${repo.key}</url>
  </snapshotRepository>
</distributionManagement>
`,
    });
  }
  if (type === 'pypi') {
    out.push({
      title: 'pip',
      file: '~/.config/pip/pip.conf',
      text: `[global]\nindex-url = ${url.protocol}//${user}:${TOKEN}@${hostPath}/api/pypi/${repo.key}/simple\n`,
    });
    out.push({
      title: 'twine',
      file: '~/.pypirc',
      text: `[distutils]\nindex-servers = ${repo.key}\n\n[${repo.key}]\nrepository = ${base}/api/pypi/${repo.key}\nusername = ${user}\npassword = ${TOKEN}\n`,
    });
  }
  if (type === 'docker') {
    out.push({
      title: 'Docker',
      text: `docker login ${url.host}\ndocker tag my-image:1.0 ${url.host}/${repo.key}/my-image:1.0\ndocker push ${url.host}/${repo.key}/my-image:1.0\ndocker pull ${url.host}/${repo.key}/my-image:1.0\n`,
    });
  }
  if (type === 'go') {
    const proxy = `${url.protocol}//${user}:${TOKEN}@${hostPath}/api/go/${repo.key}`;
    out.push({
      title: 'Go',
      text: `export GOPROXY="${proxy}"\n# Private modules are not in the public checksum database: leave them out of it\nexport GONOSUMDB="example.com/*"\ngo mod download\n`,
    });
  }
  if (type === 'cargo') {
    out.push({
      title: 'Cargo',
      file: '~/.cargo/config.toml',
      text: `[registries.${repo.key}]\nindex = "sparse+${base}/api/cargo/${repo.key}/index/"\n\n[registry]\ndefault = "${repo.key}"\nglobal-credential-providers = ["cargo:token"]\n`,
    });
    out.push({ title: 'cargo login', text: `cargo login --registry ${repo.key} "Bearer ${TOKEN}"\ncargo publish --registry ${repo.key}\n` });
  }
  if (type === 'gems') {
    const source = `${base}/api/gems/${repo.key}/`;
    out.push({ title: 'gem', text: `gem sources -a ${url.protocol}//${user}:${TOKEN}@${hostPath}/api/gems/${repo.key}/\ngem install my-gem\n` });
    out.push({
      title: 'gem push',
      file: '~/.gem/credentials',
      text: `# curl -u ${user}:${TOKEN} ${source}api/v1/api_key.yaml > ~/.gem/credentials; chmod 600 ~/.gem/credentials\n:rubygems_api_key: <API_KEY>\n\ngem push my-gem-1.0.0.gem --host ${base}/api/gems/${repo.key}\n`,
    });
    out.push({ title: 'Bundler', file: 'Gemfile', text: `source "${source}"\n\n# bundle config set --global ${source} ${user}:${TOKEN}\n` });
  }
  if (type === 'helm') {
    out.push({
      title: 'Helm',
      text: `helm repo add ${repo.key} ${base}/api/helm/${repo.key} --username ${user} --password ${TOKEN}\nhelm repo update\nhelm install my-release ${repo.key}/my-chart\n`,
    });
    if (repo.type.toUpperCase() !== 'REMOTE') {
      out.push({ title: 'Deploy a chart', text: `curl -u ${user}:${TOKEN} -T my-chart-0.1.0.tgz "${base}/api/helm/${repo.key}/my-chart-0.1.0.tgz"\n` });
    }
  }
  if (type === 'debian') {
    const key = `/etc/apt/keyrings/${repo.key}.asc`;
    const apt = `${base}/api/deb/${repo.key}`;
    out.push({
      title: 'apt',
      file: `/etc/apt/sources.list.d/${repo.key}.list`,
      text:
        `# curl -fsSL -o ${key} ${base}/api/security/keypair/public/repositories/${repo.key}\n` +
        `deb [signed-by=${key}] ${apt} bookworm main\n\n` +
        `# /etc/apt/auth.conf.d/${repo.key}.conf (when the repository is not readable anonymously):\n` +
        `# machine ${url.host}${url.pathname.replace(/\/+$/, '')}/api/deb/${repo.key} login ${user} password ${TOKEN}\n`,
    });
    if (repo.type.toUpperCase() !== 'REMOTE') {
      out.push({
        title: 'Deploy a package',
        text: `curl -u ${user}:${TOKEN} -T my-package_1.0-1_amd64.deb \\\n  "${base}/${repo.key}/pool/main/m/my-package/my-package_1.0-1_amd64.deb;deb.distribution=bookworm;deb.component=main;deb.architecture=amd64"\n`,
      });
    }
  }
  if (type === 'rpm' || type === 'yum') {
    out.push({
      title: 'dnf / yum',
      file: `/etc/yum.repos.d/${repo.key}.repo`,
      text:
        `[${repo.key}]\nname=${repo.key}\nbaseurl=${base}/${repo.key}\nenabled=1\n# gpgcheck=1 when the packages themselves are signed (Arca signs the metadata)\ngpgcheck=0\nrepo_gpgcheck=1\n` +
        `gpgkey=${base}/api/security/keypair/public/repositories/${repo.key}\n` +
        `# when the repository is not readable anonymously:\nusername=${user}\npassword=${TOKEN}\n`,
    });
    if (repo.type.toUpperCase() !== 'REMOTE') {
      out.push({ title: 'Deploy a package', text: `curl -u ${user}:${TOKEN} -T my-package-1.0-1.x86_64.rpm "${base}/${repo.key}/Packages/my-package-1.0-1.x86_64.rpm"\n` });
    }
  }
  const deployable = repo.type.toUpperCase() !== 'REMOTE';
  out.push({
    title: 'curl',
    text:
      (deployable ? `curl -u ${user}:${TOKEN} -T my-file.bin "${base}/${repo.key}/path/to/my-file.bin"\n` : '') +
      `curl -u ${user}:${TOKEN} -O "${base}/${repo.key}/path/to/my-file.bin"\n`,
  });
  return out;
}

/** "Set Me Up": client configuration snippets for one repository, one tab per client. */
export function SetupSnippets({ repo, user }: { repo: RepoSummary; user: string }) {
  const base = useBaseUrl();
  const snippets = snippetsFor(repo, base, user);
  const [tab, setTab] = useState(0);
  const current = snippets[Math.min(tab, snippets.length - 1)];
  return (
    <section className="card" aria-labelledby="setup-title">
      <h2 id="setup-title">Set up a client for {repo.key}</h2>
      <div role="tablist" className="tabs" aria-label="Clients">
        {snippets.map((s, i) => (
          <button key={s.title} type="button" role="tab" id={`setup-tab-${i}`} aria-selected={i === tab} aria-controls="setup-panel" onClick={() => setTab(i)}>
            {s.title}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="setup-panel" aria-labelledby={`setup-tab-${tab}`}>
        {current.file && (
          <p>
            In <code>{current.file}</code>:
          </p>
        )}
        <pre data-testid="setup-snippet">{current.text}</pre>
        <p className="muted">
          Replace <code>{TOKEN}</code> with an access token or your password. URLs use <code>{base}</code>.
        </p>
        <button type="button" onClick={() => void navigator.clipboard?.writeText(current.text)}>
          Copy
        </button>
      </div>
    </section>
  );
}
