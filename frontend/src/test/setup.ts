import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';

// findBy/waitFor give a busy machine (a CI run next to other suites) more than the
// default second before calling a page broken.
configure({ asyncUtilTimeout: 5000 });

// CodeMirror measures layout; jsdom has no layout, so give it empty rectangles.
const emptyRects = () => ({ length: 0, item: () => null, [Symbol.iterator]: [][Symbol.iterator] }) as unknown as DOMRectList;
if (!Range.prototype.getClientRects) Range.prototype.getClientRects = emptyRects;
if (!Range.prototype.getBoundingClientRect) Range.prototype.getBoundingClientRect = () => new DOMRect();
if (!document.elementFromPoint) document.elementFromPoint = () => null;

afterEach(() => cleanup());
