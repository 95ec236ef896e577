import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { figure, html, page, paragraph, table } from './html.ts'

test('a page is self-contained: inline CSS, no scripts, no external requests', () => {
  const p = page({
    title: 'Report <1>',
    intro: ['a & b'],
    sections: [
      { title: 'Charts', body: [figure('<svg xmlns="http://www.w3.org/2000/svg"></svg>', 'fig <1>')] },
      { title: 'Verdict', id: 'verdict', body: [table(['speed', 'pass'], [[1, { value: 'yes', class: 'pass' }], [5, null]])] },
    ],
    footer: 'npm run reproduce',
  })
  assert.ok(p.startsWith('<!DOCTYPE html>'))
  assert.ok(p.endsWith('</html>\n'))
  assert.match(p, /<style>/)
  assert.not.match(p, /<script|<link|<img|<iframe|src=|href="(?!#)|@import|url\(/)
  assert.match(p, /<title>Report &lt;1&gt;<\/title>/)
  assert.match(p, /<p>a &amp; b<\/p>/)
  assert.match(p, /<figcaption>fig &lt;1&gt;<\/figcaption>/)
  assert.match(p, /<a href="#charts">Charts<\/a>/)
  assert.match(p, /<section id="verdict">/)
  assert.match(p, /<td class="pass">yes<\/td>/)
  assert.match(p, /<td>—<\/td>/)
})

test('tables escape text but keep explicit markup; non-finite numbers show as a dash', () => {
  const t = table(['<a>', html('<b>x</b>')], [['<i>', NaN], [html('<em>ok</em>'), 1.5]], { caption: 'c&d', class: 'verdict' })
  assert.match(t, /<table class="verdict">/)
  assert.match(t, /<caption>c&amp;d<\/caption>/)
  assert.match(t, /<th>&lt;a&gt;<\/th><th><b>x<\/b><\/th>/)
  assert.match(t, /<td>&lt;i&gt;<\/td><td>—<\/td>/)
  assert.match(t, /<td><em>ok<\/em><\/td><td>1.5<\/td>/)
  assert.is(paragraph('<x>'), '<p>&lt;x&gt;</p>')
})

test.run()
